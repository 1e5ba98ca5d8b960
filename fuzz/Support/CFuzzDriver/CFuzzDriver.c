// The declaration in include/CFuzzDriver.h is the whole module; libFuzzer
// itself is linked by `-sanitize=fuzzer`.
