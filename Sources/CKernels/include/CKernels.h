// Umbrella header of the C kernels: quantized LLM kernels and the BERT embedder's kernels.
#include "quant_kernels.h"
#include "BertKernels.h"
