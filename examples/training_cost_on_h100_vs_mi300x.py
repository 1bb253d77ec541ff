"""How long, how many GPU-hours, how much energy and money to train Llama-3.1-8B on 15T tokens?

On 512 devices at 40% MFU (bf16, sequences of 8192, symcalc's exact model FLOPs), H100 SXM
against MI300X, at $2.50 per GPU-hour and a PUE of 1.2; then the closed form of the time.
"""

from symcalc import Model
from symcalc.cost import training_cost

model = Model.preset("llama-3.1-8b")
for name in ("h100", "mi300x"):
    run = training_cost(model, tokens="15T", seq_len=8192, n_devices=512, hardware=name, mfu="40%",
                        pue="1.2", price_per_device_hour="2.50")
    print(f"{name}: {float(run.days):.1f} days, {float(run.gpu_hours) / 1e6:.3f}M GPU-hours, "
          f"{float(run.energy_kwh) / 1e6:.3f} GWh, ${float(run.cost) / 1e6:.2f}M")
print("in general:", training_cost(Model(), flops="6N").seconds, "seconds")
