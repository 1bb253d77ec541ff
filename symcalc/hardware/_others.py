"""AMD (MI300X, MI325X), Intel (Gaudi 3) and Google (TPU v5e, v5p, v6e) entries.

AMD's data sheets print dense and "with structured sparsity" peaks side by side; the dense ones
are used. Google publishes bf16 (and int8) peaks per chip but no board power, so TPU entries
have none (energy then needs ``--power``). TPU memory is the bytes a chip reports where a report
was found (v6e); elsewhere the docs' "GB" as 10^9 bytes, marked uncertain. ICI figures are
printed bidirectional and are halved to one direction.
"""

from __future__ import annotations

from ._entry import Figure, Hardware, Source, gbit, giga, tera, watts

MI300X_DS = Source("AMD Instinct MI300X data sheet (address and figures as in pytorch/pytorch "
                   "torch/_inductor/analysis/device_info.py: FP32 163.4, TF32 653.7, BF16 and FP16 1307.4, "
                   "FP8 2614.9 TFLOPS, 5,300 GB/s, 192 GB)", "https://www.amd.com/content/dam/amd/en/documents/"
                   "instinct-tech-docs/data-sheets/amd-instinct-mi300x-data-sheet.pdf", "2023")
MI325X_DS = Source("AMD Instinct MI325X data sheet", "https://www.amd.com/content/dam/amd/en/documents/"
                   "instinct-tech-docs/product-briefs/instinct-mi325x-datasheet.pdf", "2024")
MEM_MI300X = Source("rocm-smi 'VRAM Total Memory (B): 206141652992' on 8x MI300X (750 W), ROCm issue #4750 "
                    "'rocm-smi shows inconsistent VRAM for partitioned MI300A and MI300X'",
                    "https://github.com/ROCm/legacy-rocm-build/issues/4750", "2025")
GAUDI3_HC = Source("Intel Gaudi 3 AI Accelerator: Architected for Gen AI Training and Inference (R. Kaplan, "
                   "Hot Chips 2024), product-parameter and spec tables of the slides, as stored by sgpjbg.com",
                   "https://www.sgpjbg.com/baogao/465025.html", "August 2024")
GAUDI3_WP = Source("Intel Gaudi documentation, Intel Gaudi Network Configuration (21 scale-up ports to the 7 peers "
                   "of an HLS-3 box, 3 scale-out ports, 200 Gbps each)",
                   "https://docs.habana.ai/en/latest/Management_and_Monitoring/Network_Configuration/index.html",
                   "2025")
V5E = Source("Google Cloud TPU v5e documentation, key chip and Pod specifications tables",
             "https://docs.cloud.google.com/tpu/docs/v5e", "2025")
V5E_HOST = Source("Google Cloud TPU v5e documentation, specification table (per-host NIC, chips per host; this "
                  "version prints HBM bandwidth as 800 GiBps)", "https://docs.cloud.google.com/tpu/docs/v5e?authuser=6",
                  "2025")
V5P = Source("Google Cloud TPU v5p documentation ('v5p training'), key specifications table",
             "https://docs.cloud.google.com/tpu/docs/v5p-training", "2025")
V6E = Source("Google Cloud TPU v6e (Trillium) documentation, system architecture table",
             "https://docs.cloud.google.com/tpu/docs/v6e.md.txt", "2025")
MEM_V6E = Source("vLLM usage-stats report on one TPU v6e, 'gpu_memory_per_device': 33550237696 (the bytes_limit "
                 "torch_xla reports), vllm-project/vllm pull request #16211",
                 "https://github.com/vllm-project/vllm/pull/16211", "2025-04-25")

IF_NOTE = ("7 Infinity Fabric links x 128 GB/s = 896 GB/s aggregate, counted both ways; halved to one direction "
           "(whether 128 GB/s per link is bidirectional is read from the data sheet's wording)")


def _cdna3_peaks(source: Source) -> dict[str, Figure]:
    dense = "the dense figure; the data sheet prints twice it with structured sparsity"
    return {
        "peak_flops/fp32": Figure(tera("163.4"), source, "matrix FP32 (vector FP32 is also 163.4)"),
        "peak_flops/tf32": Figure(tera("653.7"), source, dense),
        "peak_flops/bf16": Figure(tera("1307.4"), source, dense),
        "peak_flops/fp16": Figure(tera("1307.4"), source, dense),
        "peak_flops/fp8": Figure(tera("2614.9"), source, dense),
    }


ENTRIES = [
    Hardware("mi300x", "AMD Instinct MI300X", "AMD", aliases=("mi300x-oam",), summary="CDNA 3, OAM, 192 GB HBM3",
             figures={
                 **_cdna3_peaks(MI300X_DS),
                 "memory": Figure(206141652992, MEM_MI300X, "rocm-smi total (191.98 GiB of the 192 GB)"),
                 "mem_bandwidth": Figure(tera("5.3"), MI300X_DS, "5.3 TB/s"),
                 "bandwidth_scaleup": Figure(giga("448"), MI300X_DS, IF_NOTE, uncertain=True),
                 "scaleup_domain": Figure(8, MI300X_DS, "8 MI300X OAMs fully connected by Infinity Fabric in the "
                                          "MI300X platform"),
                 "power": Figure(watts("750"), MI300X_DS, "total board power"),
             }),
    Hardware("mi325x", "AMD Instinct MI325X", "AMD", aliases=("mi325x-oam",), summary="CDNA 3, OAM, 256 GB HBM3e",
             figures={
                 **_cdna3_peaks(MI325X_DS),
                 "memory": Figure(256 * 10**9, MI325X_DS, "the data sheet's 256 GB as 10^9 bytes: no rocm-smi report "
                                  "was found (ROCm's GPU specifications table lists 256 GiB VRAM, "
                                  "rocm.docs.amd.com/en/7.13.0-preview/reference/gpu-specs.html; usable is a "
                                  "little less)", uncertain=True),
                 "mem_bandwidth": Figure(tera("6"), MI325X_DS, "6 TB/s"),
                 "bandwidth_scaleup": Figure(giga("448"), MI325X_DS, IF_NOTE, uncertain=True),
                 "scaleup_domain": Figure(8, MI325X_DS, "8 MI325X OAMs fully connected by Infinity Fabric in the "
                                          "MI325X platform"),
                 "power": Figure(watts("1000"), MI325X_DS, "total board power"),
             }),
    Hardware("gaudi3", "Intel Gaudi 3 (HL-325L OAM)", "Intel", aliases=("gaudi-3", "hl-325l"),
             summary="Gaudi 3, OAM, 128 GB HBM2e", figures={
                 "peak_flops/bf16": Figure(tera("1835"), GAUDI3_HC, "BF16 matrix (MME)"),
                 "peak_flops/fp8": Figure(tera("1835"), GAUDI3_HC, "FP8 matrix (MME), the same rate as BF16"),
                 "memory": Figure(128 * 10**9, GAUDI3_HC, "the spec's 128 GB as 10^9 bytes: no hl-smi report was "
                                  "found", uncertain=True),
                 "mem_bandwidth": Figure(tera("3.67"), GAUDI3_HC, "3.67 TB/s (product pages round to 3.7)"),
                 "bandwidth_scaleup": Figure(gbit("4200"), GAUDI3_WP, "21 x 200 Gbps to the other 7 Gaudi 3 of an "
                                             "HLS-3 box: '525 GB/s unidirectional'"),
                 "bandwidth_scaleout": Figure(gbit("600"), GAUDI3_WP, "3 x 200 Gbps scale-out ports: '75 GB/s in each "
                                              "direction'"),
                 "scaleup_domain": Figure(8, GAUDI3_WP, "8 Gaudi 3 of an HLS-3 box, all-to-all"),
                 "power": Figure(watts("900"), GAUDI3_HC, "OAM, air cooled (1,200 W liquid cooled)"),
             }),
    Hardware("tpu-v5e", "Google Cloud TPU v5e (per chip)", "Google", aliases=("v5e", "tpu-v5-lite", "v5litepod"),
             summary="TPU v5e, 16 GB HBM2, 2D torus", figures={
                 "peak_flops/bf16": Figure(tera("197"), V5E, "197 TFLOPs per chip (int8: 393 TOPs)"),
                 "memory": Figure(16 * 10**9, V5E, "the docs' 16 GB as 10^9 bytes (no per-chip report found)",
                                  uncertain=True),
                 "mem_bandwidth": Figure(giga("819"), V5E, "819 GBps (one version of the page says 800 GiBps)"),
                 "bandwidth_scaleup": Figure(giga("200"), V5E, "ICI: 400 GBps bidirectional per chip (1,600 Gbps in "
                                             "an earlier version of the page), halved to one direction"),
                 "bandwidth_scaleout": Figure(gbit("25"), V5E_HOST, "2 x 100 Gbps NICs per host of 8 chips (6.4 Tbps "
                                              "per 256-chip pod)"),
                 "scaleup_domain": Figure(256, V5E, "256 chips per v5e pod, joined by ICI"),
             }),
    Hardware("tpu-v5p", "Google Cloud TPU v5p (per chip)", "Google", aliases=("v5p",),
             summary="TPU v5p, 95 GB HBM2e, 3D torus", figures={
                 "peak_flops/bf16": Figure(tera("459"), V5P, "459 TFLOPs per chip"),
                 "memory": Figure(95 * 10**9, V5P, "the docs' 95 GB as 10^9 bytes (no per-chip report found; a "
                                  "newer version of the page heads the row 'HBM capacity per chip (GiB)')",
                                  uncertain=True),
                 "mem_bandwidth": Figure(giga("2765"), V5P, "2,765 GBps"),
                 "bandwidth_scaleup": Figure(giga("600"), V5P, "ICI: 1,200 GBps bidirectional per chip (4,800 Gbps "
                                             "in an earlier version of the page), halved to one direction"),
                 "scaleup_domain": Figure(8960, V5P, "8,960 chips per v5p pod, joined by ICI"),
             }),
    Hardware("tpu-v6e", "Google Cloud TPU v6e Trillium (per chip)", "Google", aliases=("v6e", "trillium"),
             summary="TPU v6e, 32 GB HBM, 2D torus", figures={
                 "peak_flops/bf16": Figure(tera("918"), V6E, "918 TFLOPs per chip (int8: 1,836 TOPs)"),
                 "memory": Figure(33550237696, MEM_V6E, "the bytes a v6e chip reports (31.25 GiB); the docs "
                                  "print 32 GB (this entry had 32 x 10^9 bytes)"),
                 "mem_bandwidth": Figure(giga("1638"), V6E, "1,638 GBps (an earlier version says 1,640)"),
                 "bandwidth_scaleup": Figure(giga("400"), V6E, "ICI: 800 GBps bidirectional per chip, halved"),
                 "scaleup_domain": Figure(256, V6E, "256 chips per v6e pod, joined by ICI"),
                 "bandwidth_scaleout": Figure(gbit("100"), V6E, "4 x 200 Gbps NICs per host of 8 chips (25.6 Tbps "
                                              "per 256-chip pod); not in the stored page's table", uncertain=True),
             }),
]
