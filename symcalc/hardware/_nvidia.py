"""NVIDIA entries: A100 40/80 GB SXM, H100 SXM/PCIe, H200, B200, GB200, L40S, RTX 4090, RTX 5090.

Datasheets print Tensor Core peaks "with sparsity" (2:4 structured sparsity doubles them, marked
``*``); those are halved here and the note says so. Where an architecture whitepaper prints the
dense peak itself (H100 Table 1, Ada and RTX Blackwell appendices), that figure is used.
NVLink figures are totals of both directions (A100 600 GB/s, H100 900 GB/s, Blackwell 1.8 TB/s)
and are halved to one direction. Scale-out is the NIC per GPU of NVIDIA's DGX reference system.
"""

from __future__ import annotations

from ._entry import Figure, Hardware, Source, gbit, giga, peta, tera, watts

# --- sources ------------------------------------------------------------------------------------
A100_DS = Source("NVIDIA A100 Tensor Core GPU datasheet (nvidia-a100-datasheet-us-nvidia-1758950-r4-web; this "
                 "address is also the one pytorch/pytorch torch/_inductor/analysis/device_info.py cites). Its "
                 "figures as stored copies print them: Paderborn PC2 wiki 'NVIDIA A100 40GB with NVLINK' "
                 "(upb-pc2.atlassian.net): 19.5 TFLOPS FP32, TF32 156 / 312*, BF16 and FP16 312 / 624* "
                 "(* with sparsity), 400 W; thundercompute.com/blog/nvidia-a100-specs-full-guide: "
                 "1,555 GB/s (40 GB) and 2,039 GB/s (SXM 80 GB), 400 W, NVLink 600GB/s",
                 "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/"
                 "nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf", "June 2021")
DGX_A100 = Source("NVIDIA DGX A100 datasheet (8x ConnectX-6 VPI 200 Gb/s HDR InfiniBand, one per GPU)",
                  "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/nvidia-dgx-a100-datasheet.pdf",
                  "2020")
H100_WP = Source("NVIDIA H100 Tensor Core GPU Architecture whitepaper, Table 1 (dense/sparse peaks); the "
                 "figures as stored in glennklockwood.com/garden/processors/h100, which cites it: FP32 66.9, "
                 "TF32 494.7 / 989.4, BF16 and FP16 989.4 / 1978.9, FP8 1978.9 / 3957.8 TFLOPS",
                 "https://resources.nvidia.com/en-us-tensor-core/gtc22-whitepaper-hopper", "2022")
H100_DS = Source("NVIDIA H100 Tensor Core GPU datasheet (H100 SXM / H100 PCIe columns)",
                 "https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet", "2022-2023")
DGX_H100 = Source("NVIDIA DGX H100 datasheet (8x ConnectX-7 400 Gb/s, one per GPU)",
                  "https://resources.nvidia.com/en-us-dgx-systems/ai-enterprise-dgx", "2023")
H200_DS = Source("NVIDIA H200 Tensor Core GPU datasheet / product page, Technical Specifications (H200 SXM)",
                 "https://www.nvidia.com/en-us/data-center/h200/", "2024")
HGX_B200 = Source("NVIDIA HGX / GB200 NVL72 product pages, Technical Specifications, per-GPU rows "
                  "(HGX B200 and GB200 NVL72 columns; Tensor Core figures with sparsity)",
                  "https://www.nvidia.com/en-us/data-center/hgx/ ; https://www.nvidia.com/en-us/data-center/gb200-nvl72/",
                  "2025")
DGX_B200 = Source("NVIDIA DGX B200 datasheet (8x ConnectX-7 VPI 400 Gb/s; 1,440 GB and 64 TB/s for 8 GPUs)",
                  "https://resources.nvidia.com/en-us-dgx-systems/dgx-b200-datasheet", "2024")
L40S_DS = Source("NVIDIA L40S datasheet; its table as reproduced on mullet.se (product 355414, L40 | L40S "
                 "columns): FP32 91.6, TF32 183 | 366*, BF16 and FP16 362.05 | 733*, FP8 733 | 1,466* TFLOPS "
                 "(* with sparsity), 864GB/s, PCIe Gen4 x16 64GB/s bidirectional, 350W", "https://resources.nvidia.com/en-us-l40s/l40s-datasheet-28413", "2023")
ADA_WP = Source("NVIDIA Ada GPU Architecture whitepaper, appendix table (GeForce RTX 4090)",
                "https://images.nvidia.com/aem-dam/Solutions/geforce/ada/nvidia-ada-gpu-architecture.pdf", "2023")
RTXB_WP = Source("NVIDIA RTX Blackwell GPU Architecture whitepaper, appendix table (GeForce RTX 5090)",
                 "https://images.nvidia.com/aem-dam/Solutions/geforce/blackwell/nvidia-rtx-blackwell-gpu-architecture.pdf",
                 "2025")
PCIE4 = Source("PCI Express 4.0 x16: 16 GT/s x 16 lanes, 128b/130b (about 32 GB/s each way)",
               "https://pcisig.com/specifications", "2017")
PCIE5 = Source("PCI Express 5.0 x16: 32 GT/s x 16 lanes, 128b/130b (about 64 GB/s each way)",
               "https://pcisig.com/specifications", "2019")

# Reported memory (what the driver gives CUDA; torch.cuda.get_device_properties().total_memory).
MEM_A100_40 = Source("deviceQuery of an A100-SXM4-40GB, CUDA driver 12.2: 40339 MBytes (42298834944 bytes), "
                     "bottlerocket-os/bottlerocket pull request #3873 ('Add Fabric Manager Support'); a CUDA 12.x "
                     "deviceQuery on Paderborn PC2's wiki page 'NVIDIA A100 40GB with NVLINK' shows 40441 MBytes "
                     "(42405855232 bytes): https://upb-pc2.atlassian.net/wiki/spaces/PC2DOK/pages/1900609/"
                     "NVIDIA+A100+40GB+with+NVLINK",
                     "https://github.com/bottlerocket-os/bottlerocket/pull/3873", "2024")
MEM_A100_80 = Source("deviceQuery (NVIDIA cuda-samples) of 4x A100-SXM4-80GB, CUDA driver 12.5: 81158 MBytes "
                     "(85100068864 bytes), a log stored in the public code index (file id 32810829468; the index "
                     "names no repository); driver 12.2: 81051 MBytes (84987740160 bytes), file id 49034208270; "
                     "nvidia-smi 81920MiB: modal-labs/modal-client pull request #2797",
                     "https://github.com/NVIDIA/cuda-samples (deviceQuery)", "2024")
MEM_H100 = Source("nvidia-smi totals of Modal's GPUs, 'H100: 81559MiB (85.52 GB)' (= 85520809984 bytes, what torch "
                  "reports), modal-labs/modal-client pull request #2797 ('docs fix: nvidia quotes GB on their GPUs "
                  "not GiB')", "https://github.com/modal-labs/modal-client/pull/2797", "2025-01-23")
MEM_H100_PCIE = Source("nvidia-smi 'NVIDIA H100 PCIe, 81559 MiB' in public logs (drivers 535 to 595)",
                       "https://github.com/search?q=%22NVIDIA+H100+PCIe%2C+81559+MiB%22", "2024-2026")
MEM_H200 = Source("nvidia-smi 'NVIDIA H200 ... / 143771MiB' (700 W SXM) in public logs; also this project's "
                  "H200 device machine (nvidia-smi, driver 580.159.03)",
                  "https://github.com/search?q=%22143771MiB%22", "2024-2026")
MEM_B200 = Source("nvidia-smi 'NVIDIA B200 ... / 183359MiB' (1000 W) in public logs",
                  "https://github.com/search?q=%22183359MiB%22", "2025-2026")
MEM_GB200 = Source("nvidia-smi 'NVIDIA GB200 ... / 189471MiB' (1200 W) in public logs",
                   "https://github.com/search?q=%22189471MiB%22", "2025-2026")
MEM_L40S = Source("cuda-device-query on an L40S, CUDA driver 12.4: 45373 MBytes (47576711168 bytes)",
                  "https://crates.io/crates/cuda-device-query", "2024")
MEM_4090 = Source("deviceQuery of a GeForce RTX 4090, CUDA driver 12.1: 24564 MBytes (25756696576 bytes), "
                  "a public log found by code search", "https://github.com/NVIDIA/cuda-samples (deviceQuery)", "2023")
MEM_5090 = Source("deviceQuery of a GeForce RTX 5090, CUDA driver 13.0: 32109 MBytes (33668857856 bytes), "
                  "a public log found by code search", "https://github.com/NVIDIA/cuda-samples (deviceQuery)", "2025")

SPARSE = "the datasheet prints {x} with 2:4 sparsity; halved to the dense peak"
NVLINK = "NVLink {x} total (both directions); halved to one direction"


def sparse(text: str, source: Source, unit: str = "TFLOP/s", scale=tera) -> Figure:
    """Half of a datasheet's "with sparsity" peak, with the note saying so."""
    return Figure(scale(text) / 2, source, SPARSE.format(x=f"{text} {unit}"))


def _mib(n: int) -> int:
    return n * 2**20


def _hopper_peaks(note: str = "") -> dict[str, Figure]:
    extra = f"; {note}" if note else ""
    return {
        "peak_flops/fp32": Figure(tera("66.9"), H100_WP, "H100 SXM5 column (the datasheet rounds to 67)" + extra),
        "peak_flops/tf32": Figure(tera("494.7"), H100_WP, "dense column; the datasheet prints 989* with sparsity" + extra),
        "peak_flops/bf16": Figure(tera("989.4"), H100_WP, "dense column; the datasheet prints 1,979* with sparsity" + extra),
        "peak_flops/fp16": Figure(tera("989.4"), H100_WP, "dense column; the datasheet prints 1,979* with sparsity" + extra),
        "peak_flops/fp8": Figure(tera("1978.9"), H100_WP, "dense column; the datasheet prints 3,958* with sparsity" + extra),
    }


def _ampere_peaks() -> dict[str, Figure]:
    return {
        "peak_flops/fp32": Figure(tera("19.5"), A100_DS),
        "peak_flops/tf32": Figure(tera("156"), A100_DS, "the dense figure; 312* is with sparsity"),
        "peak_flops/bf16": Figure(tera("312"), A100_DS, "the dense figure; 624* is with sparsity"),
        "peak_flops/fp16": Figure(tera("312"), A100_DS, "the dense figure; 624* is with sparsity"),
    }


NODE8 = "8 GPUs on one NVLink/NVSwitch baseboard (HGX/DGX): TP stays inside it"

A100_LINKS = {
    "scaleup_domain": Figure(8, DGX_A100, NODE8),
    "bandwidth_scaleup": Figure(giga("300"), A100_DS, NVLINK.format(x="600 GB/s")),
    "bandwidth_scaleout": Figure(gbit("200"), DGX_A100, "one 200 Gb/s HDR NIC per GPU in DGX A100"),
    "power": Figure(watts("400"), A100_DS, "max TDP, SXM"),
}

ENTRIES = [
    Hardware("a100-40gb", "NVIDIA A100-SXM4-40GB", "NVIDIA", aliases=("a100-sxm4-40gb", "a100-sxm-40gb"),
             summary="Ampere, SXM4, 40 GB HBM2", figures={
                 **_ampere_peaks(),
                 "memory": Figure(42298834944, MEM_A100_40, "CUDA total under driver 12.2; nvidia-smi shows 40960 MiB; "
                                  "other drivers report up to ~100 MiB more (42405855232 seen)"),
                 "mem_bandwidth": Figure(giga("1555"), A100_DS, "1,555 GB/s"),
                 **A100_LINKS}),
    Hardware("a100-80gb", "NVIDIA A100-SXM4-80GB", "NVIDIA", aliases=("a100", "a100-sxm4-80gb", "a100-sxm-80gb"),
             summary="Ampere, SXM4, 80 GB HBM2e", figures={
                 **_ampere_peaks(),
                 "memory": Figure(85100068864, MEM_A100_80, "CUDA total under driver 12.5; nvidia-smi shows 81920 MiB; "
                                  "driver 12.2 reported 84987740160"),
                 "mem_bandwidth": Figure(giga("2039"), A100_DS, "2,039 GB/s (SXM)"),
                 **A100_LINKS}),
    Hardware("h100-sxm", "NVIDIA H100 SXM5 80GB", "NVIDIA", aliases=("h100", "h100-sxm5", "h100-80gb"),
             summary="Hopper, SXM5, 80 GB HBM3", figures={
                 **_hopper_peaks(),
                 "memory": Figure(_mib(81559), MEM_H100, "81559 MiB; deviceQuery under drivers 12.7-13.0 has shown "
                                  "up to 0.6% less (85017755648-85045477376 bytes)"),
                 "mem_bandwidth": Figure(tera("3.35"), H100_DS, "3.35 TB/s"),
                 "bandwidth_scaleup": Figure(giga("450"), H100_DS, NVLINK.format(x="900 GB/s")),
                 "bandwidth_scaleout": Figure(gbit("400"), DGX_H100, "one 400 Gb/s ConnectX-7 per GPU in DGX H100"),
                 "scaleup_domain": Figure(8, DGX_H100, NODE8),
                 "power": Figure(watts("700"), H100_DS, "up to 700 W (configurable)"),
             }),
    Hardware("h100-pcie", "NVIDIA H100 PCIe 80GB", "NVIDIA", aliases=("h100-pcie-80gb",),
             summary="Hopper, PCIe card, 80 GB HBM2e", figures={
                 "peak_flops/fp32": Figure(tera("51"), H100_DS, "the whitepaper prints 51.2"),
                 "peak_flops/tf32": sparse("756", H100_DS),
                 "peak_flops/bf16": sparse("1513", H100_DS),
                 "peak_flops/fp16": sparse("1513", H100_DS),
                 "peak_flops/fp8": sparse("3026", H100_DS),
                 "memory": Figure(_mib(81559), MEM_H100_PCIE, "81559 MiB, as H100 SXM"),
                 "mem_bandwidth": Figure(tera("2"), H100_DS, "2 TB/s"),
                 "bandwidth_scaleup": Figure(giga("64"), PCIE5, "PCIe Gen5 x16 (128 GB/s both ways, datasheet); "
                                             "an NVLink bridge joins pairs only (600 GB/s, 300 each way)"),
                 "power": Figure(watts("350"), H100_DS, "300-350 W (configurable); the maximum"),
             }),
    Hardware("h200", "NVIDIA H200 SXM 141GB", "NVIDIA", aliases=("h200-sxm", "h200-141gb"),
             summary="Hopper, SXM5, 141 GB HBM3e", figures={
                 **_hopper_peaks("the H200 datasheet prints the same sparse peaks as H100 SXM (same GH100, same clocks)"),
                 "memory": Figure(_mib(143771), MEM_H200, "143771 MiB"),
                 "mem_bandwidth": Figure(tera("4.8"), H200_DS, "4.8 TB/s"),
                 "bandwidth_scaleup": Figure(giga("450"), H200_DS, NVLINK.format(x="900 GB/s")),
                 "bandwidth_scaleout": Figure(gbit("400"), DGX_H100, "one 400 Gb/s ConnectX-7 per GPU (DGX H100/H200)"),
                 "scaleup_domain": Figure(8, H200_DS, NODE8 + " (HGX H200 8-GPU)"),
                 "power": Figure(watts("700"), H200_DS, "up to 700 W (configurable)"),
             }),
    Hardware("b200", "NVIDIA B200 (HGX B200)", "NVIDIA", aliases=("b200-sxm", "hgx-b200"),
             summary="Blackwell, HGX baseboard, 180 GB HBM3e", figures={
                 "peak_flops/fp32": Figure(tera("75"), HGX_B200, "HGX B200 column"),
                 "peak_flops/tf32": sparse("2.2", HGX_B200, "PFLOP/s", peta),
                 "peak_flops/bf16": sparse("4.5", HGX_B200, "PFLOP/s", peta),
                 "peak_flops/fp16": sparse("4.5", HGX_B200, "PFLOP/s", peta),
                 "peak_flops/fp8": sparse("9", HGX_B200, "PFLOP/s", peta),
                 "peak_flops/fp4": sparse("18", HGX_B200, "PFLOP/s", peta),
                 "memory": Figure(_mib(183359), MEM_B200, "183359 MiB (the datasheet: 180 GB; earlier pages 192 GB)"),
                 "mem_bandwidth": Figure(tera("7.7"), HGX_B200, "7.7 TB/s on the HGX page; the DGX B200 datasheet's "
                                         "64 TB/s for 8 GPUs is 8 TB/s each", uncertain=True),
                 "bandwidth_scaleup": Figure(giga("900"), HGX_B200, NVLINK.format(x="1.8 TB/s")),
                 "bandwidth_scaleout": Figure(gbit("400"), DGX_B200, "one 400 Gb/s ConnectX-7 per GPU in DGX B200"),
                 "scaleup_domain": Figure(8, DGX_B200, NODE8),
                 "power": Figure(watts("1000"), HGX_B200, "configurable up to 1,000 W"),
             }),
    Hardware("gb200", "NVIDIA GB200 (per Blackwell GPU, GB200 NVL72)", "NVIDIA", aliases=("gb200-nvl72",),
             summary="Blackwell, Grace-Blackwell superchip, 186 GB HBM3e per GPU", figures={
                 "peak_flops/fp32": Figure(tera("80"), HGX_B200, "GB200 NVL72 column, per GPU"),
                 "peak_flops/tf32": sparse("2.5", HGX_B200, "PFLOP/s", peta),
                 "peak_flops/bf16": sparse("5", HGX_B200, "PFLOP/s", peta),
                 "peak_flops/fp16": sparse("5", HGX_B200, "PFLOP/s", peta),
                 "peak_flops/fp8": sparse("10", HGX_B200, "PFLOP/s", peta),
                 "peak_flops/fp4": sparse("20", HGX_B200, "PFLOP/s", peta),
                 "memory": Figure(_mib(189471), MEM_GB200, "189471 MiB (the datasheet: 186 GB)"),
                 "mem_bandwidth": Figure(tera("8"), HGX_B200, "8 TB/s"),
                 "bandwidth_scaleup": Figure(giga("900"), HGX_B200, NVLINK.format(x="1.8 TB/s") +
                                             "; 72 GPUs in one NVLink domain"),
                 "bandwidth_scaleout": Figure(gbit("400"), HGX_B200, "one 400 Gb/s ConnectX-7 per GPU in the NVL72 "
                                              "compute tray (reference design; not printed per GPU)", uncertain=True),
                 "scaleup_domain": Figure(72, HGX_B200, "72 Blackwell GPUs in one NVLink domain (GB200 NVL72)"),
                 "power": Figure(watts("1200"), HGX_B200, "configurable up to 1,200 W per GPU"),
             }),
    Hardware("l40s", "NVIDIA L40S", "NVIDIA", summary="Ada Lovelace, PCIe card, 48 GB GDDR6 (ECC)", figures={
        "peak_flops/fp32": Figure(tera("91.6"), L40S_DS),
        "peak_flops/tf32": Figure(tera("183"), L40S_DS, "the dense figure; 366* is with sparsity"),
        "peak_flops/bf16": Figure(tera("362.05"), L40S_DS, "the dense figure; 733* is with sparsity"),
        "peak_flops/fp16": Figure(tera("362.05"), L40S_DS, "the dense figure; 733* is with sparsity"),
        "peak_flops/fp8": Figure(tera("733"), L40S_DS, "the dense figure; 1,466* is with sparsity"),
        "memory": Figure(47576711168, MEM_L40S, "CUDA total with ECC on; nvidia-smi shows 46068 MiB "
                         "(modal-labs/modal-client pull request #2797)"),
        "mem_bandwidth": Figure(giga("864"), L40S_DS, "864 GB/s"),
        "bandwidth_scaleup": Figure(giga("32"), L40S_DS, "no NVLink: PCIe Gen4 x16, 64 GB/s both ways (datasheet)"),
        "power": Figure(watts("350"), L40S_DS, "max power consumption"),
    }),
    Hardware("rtx-4090", "NVIDIA GeForce RTX 4090", "NVIDIA", aliases=("4090", "rtx4090"),
             summary="Ada Lovelace, consumer card, 24 GB GDDR6X", figures={
                 "peak_flops/fp32": Figure(tera("82.6"), ADA_WP),
                 "peak_flops/tf32": Figure(tera("82.6"), ADA_WP, "dense; 165.2 with sparsity"),
                 "peak_flops/bf16": Figure(tera("165.2"), ADA_WP, "dense, FP32 accumulate (as training uses); "
                                           "330.4 with sparsity"),
                 "peak_flops/fp16": Figure(tera("165.2"), ADA_WP, "dense, FP32 accumulate; 330.3 with FP16 accumulate"),
                 "peak_flops/fp8": Figure(tera("330.3"), ADA_WP, "dense, FP32 accumulate; 660.6 with FP16 accumulate"),
                 "memory": Figure(25756696576, MEM_4090, "24564 MiB, no display attached"),
                 "mem_bandwidth": Figure(giga("1008"), ADA_WP, "1,008 GB/s"),
                 "bandwidth_scaleup": Figure(giga("32"), PCIE4, "no NVLink and no peer-to-peer: PCIe Gen4 x16 through "
                                             "the host, one direction"),
                 "power": Figure(watts("450"), ADA_WP, "total graphics power"),
             }),
    Hardware("rtx-5090", "NVIDIA GeForce RTX 5090", "NVIDIA", aliases=("5090", "rtx5090"),
             summary="Blackwell, consumer card, 32 GB GDDR7", figures={
                 "peak_flops/fp32": Figure(tera("104.8"), RTXB_WP),
                 "peak_flops/bf16": Figure(tera("209.5"), RTXB_WP, "dense, FP32 accumulate (half the FP16-accumulate "
                                           "419); 838 with sparsity and FP16 accumulate", uncertain=True),
                 "peak_flops/fp16": Figure(tera("209.5"), RTXB_WP, "dense, FP32 accumulate", uncertain=True),
                 "peak_flops/fp8": Figure(tera("419"), RTXB_WP, "dense, FP32 accumulate; 838 with FP16 accumulate",
                                          uncertain=True),
                 "peak_flops/fp4": sparse("3352", RTXB_WP, "TFLOP/s ('AI TOPS')"),
                 "memory": Figure(33668857856, MEM_5090, "32109 MiB; 32101 MiB also seen (display attached)"),
                 "mem_bandwidth": Figure(giga("1792"), RTXB_WP, "1,792 GB/s"),
                 "bandwidth_scaleup": Figure(giga("64"), PCIE5, "no NVLink: PCIe Gen5 x16, one direction"),
                 "power": Figure(watts("575"), RTXB_WP, "total graphics power"),
             }),
]
