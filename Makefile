# clif-mpi: the two commands of the README, and their set-up.
#   make run   — trains CLIF on the embedded digits dataset
#   make test  — builds and runs the whole test suite, then the short fuzzing
#                and sanitizer passes (make unit: the XCTest suite alone)
# Both install the Debian packages they need first (apt-get, as root).

APT_PACKAGES := libopenmpi-dev openmpi-bin libopenblas-dev zlib1g-dev libturbojpeg0-dev libhdf5-dev iproute2
# What the tests need beyond that: real Fashion-MNIST files for the IDX test;
# slurmctld, slurmd, slurm-client and munge for SlurmTests' one-node Slurm
# cluster (tools/slurm-local.sh, which uses none of the system's Slurm or MUNGE
# set-up: the slurmctld and slurmd services stay stopped without
# /etc/slurm/slurm.conf).
TEST_APT_PACKAGES := dataset-fashion-mnist slurmctld slurmd slurm-client munge
SHELL := /bin/bash
SWIFT ?= swift
RUN_DIR ?= runs

# Keep Open MPI quiet and quick on one machine (see README, "Several hosts").
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
export OMPI_MCA_pml := ob1

.PHONY: deps test-deps test-venv apt-packages build run test unit fuzz sanitize soak nir-venv tensorboard-venv clean

deps:
	@$(MAKE) --no-print-directory apt-packages PACKAGES="$(APT_PACKAGES)"

test-deps:
	@$(MAKE) --no-print-directory apt-packages PACKAGES="$(APT_PACKAGES) $(TEST_APT_PACKAGES)"

apt-packages:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release --product clif-mpi

# Two MPI ranks, one per core; the result is bit-identical to one process.
run: build
	mpirun -np 2 --oversubscribe .build/release/clif-mpi train -dataset digits -model spiking_cnn_small -neuron CLIF \
	  -b 64 -epochs 10 -T_max 10 -out_dir $(RUN_DIR)

# Everything CI runs: the unit tests, every parser fuzzed for FUZZ_SECONDS,
# a test subset under ASan and TSan (about 12 minutes more than `unit`).
# Its last lines count the unit tests and name every skipped one with its reason.
test: unit fuzz sanitize soak
	@bash tools/test-summary.sh .build/unit-tests.log

# XCTest only: the suite has no Swift Testing tests, whose empty summary line
# would otherwise end the output.
unit: test-deps test-venv
	$(SWIFT) build --build-tests
	set -o pipefail; $(SWIFT) test --skip-build --disable-swift-testing 2>&1 | tee .build/unit-tests.log

# Bounded fuzzing of every file parser, FUZZ_SECONDS per target (fuzz/README.md).
FUZZ_SECONDS ?= 15
fuzz: deps
	bash fuzz/run.sh $(FUZZ_SECONDS)

# The CI subset of the tests under AddressSanitizer and ThreadSanitizer
# (tools/sanitize.sh; each builds into its own .build-asan / .build-tsan).
sanitize: deps
	bash tools/sanitize.sh address --quick
	bash tools/sanitize.sh thread --quick

# The Python NIR consumers (nir, snnTorch and its torch) that ExportNIRCommandTests runs an
# exported file in; without them that one test is skipped, and named as skipped by `make test`.
NIR_VENV := .build/venv-nir
nir-venv:
	python3 -m venv $(NIR_VENV)
	$(NIR_VENV)/bin/pip install -q -r tools/requirements-nir.txt

# TensorBoard's own reader, which TensorBoardEventTests runs on a training run's event file
# (tools/check_tensorboard.py); without it that one test is skipped, and named as skipped.
TENSORBOARD_VENV := .build/venv-tensorboard
tensorboard-venv:
	python3 -m venv $(TENSORBOARD_VENV)
	$(TENSORBOARD_VENV)/bin/pip install -q -r tools/requirements-tensorboard.txt

# `make unit` builds these venvs once (about 2 minutes from PyPI); if PyPI cannot be
# reached the snnTorch and TensorBoard tests are skipped, and the summary at the end of
# `make test` says so.
test-venv:
	@[ -x $(NIR_VENV)/bin/python ] && $(NIR_VENV)/bin/python -c 'import nir, nirtorch, snntorch, torch, h5py' 2>/dev/null \
	  || $(MAKE) --no-print-directory nir-venv \
	  || echo "NOTE: could not install the NIR consumers (tools/requirements-nir.txt): the snnTorch test will be skipped"
	@[ -x $(TENSORBOARD_VENV)/bin/python ] \
	  && $(TENSORBOARD_VENV)/bin/python -c 'import tensorboard.backend.event_processing.event_accumulator' 2>/dev/null \
	  || $(MAKE) --no-print-directory tensorboard-venv \
	  || echo "NOTE: could not install tensorboard (tools/requirements-tensorboard.txt): the TensorBoard reader test will be skipped"

# A short soak (tools/soak.sh): a 3-rank training run stopped by SIGTERM, by SIGKILL of a rank
# and by a full disk, resumed after each, ends with the uninterrupted run's checkpoints.
soak: deps
	bash tools/soak.sh --faults 3 --epochs 6

clean:
	rm -rf .build .build-fuzz .build-asan .build-tsan $(RUN_DIR)
