"""Quant kernels: pure numpy/TA-Lib, no I/O."""
