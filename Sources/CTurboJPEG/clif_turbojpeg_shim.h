#ifndef CLIF_TURBOJPEG_SHIM_H
#define CLIF_TURBOJPEG_SHIM_H
// libturbojpeg's TurboJPEG 2 API (Debian libturbojpeg0-dev): JPEG decoding
// for Tiny-ImageNet.
#include <turbojpeg.h>
#endif
