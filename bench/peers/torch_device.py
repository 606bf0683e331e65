# SPDX-License-Identifier: MIT
# The PyTorch peers' --device cuda (w3_torch.py, w5_torch.py, w6_torch.py):
# one check and one line, shared.
import sys

import torch


def cuda_or_exit(who):
    """--device cuda: set exact f32 GEMMs and return the GPU line, or exit
    with status 2 and one line on stderr where torch sees no CUDA GPU."""
    if not torch.cuda.is_available():
        why = ("this torch was built without CUDA" if torch.version.cuda is None
               else f"torch built for CUDA {torch.version.cuda} finds no usable GPU")
        print(f"{who}: --device cuda asked, but torch.cuda.is_available() is false "
              f"(torch {torch.__version__}: {why})", file=sys.stderr)
        raise SystemExit(2)
    torch.backends.cuda.matmul.allow_tf32 = False  # exact f32 GEMMs (torch's default, made sure)
    torch.backends.cudnn.allow_tf32 = False
    return (f"GPU: {torch.cuda.get_device_name()} (torch {torch.__version__}, CUDA {torch.version.cuda}, "
            f"f32, TF32 off)")
