"""Time the book's PyTorch training path against a re-implementation of pytorch/examples.

    python scripts/speed.py                    # the profile utils.run_profile() picks
    python scripts/speed.py --profile medium   # longer rounds, the whole validation split
    python scripts/speed.py --ablation         # also each fast option switched off alone
    python scripts/speed.py --bf16             # the book's path under bf16 autocast,
                                               # where the CPU or GPU runs it natively

Both loops train the same word-level LSTM language model on Penn Treebank from the
same initial weights, on the same windows, for the same number of tokens, in
alternating rounds, in one process (``utils.torch.speed.compare_speed``). The record
``results/<profile>/speed.json`` keeps both throughputs (tokens/s), the speed-up, both
validation perplexities after the same tokens, the achieved GFLOP/s (matrix products,
``utils.torch.lm.lm_flops_per_token``) as a fraction of the machine's peak (and how the
peak was computed), the rate of a large float32 matrix product measured here, and
where the time of one step goes (``profile_step``). The same script runs unchanged on
a GPU, where the `full` profile times the large model.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import utils  # noqa: E402
from utils.torch import speed  # noqa: E402
from utils.torch.core import select_device  # noqa: E402


def run(profile: str, ablation: bool, results_dir=None, bf16: bool = False) -> dict:
    """Measure, print and save the ``speed`` record of ``profile``; return it."""
    begin = time.perf_counter()
    device = select_device()
    cfg = speed.SPEED_SETTINGS[profile]
    train_ids, valid_ids, _, vocab = utils.load_ptb_corpus()
    options = speed.FastOptions(bf16=bf16)
    result = speed.compare_speed(train_ids, valid_ids, len(vocab), cfg, options,
                                 device, log=print)
    ref, book = result["reference"], result["book"]
    flops = result["flops_per_token"]
    peak = speed.peak_flops(device)
    gemm = speed.gemm_flops_per_s(device=device)
    metrics = {"speedup_vs_reference": result["speedup_vs_reference"],
               "median_round_speedup": result["median_round_speedup"],
               "reference_tokens_per_s": ref["tokens_per_s"],
               "book_tokens_per_s": book["tokens_per_s"],
               "reference_val_ppl": ref["val_ppl"], "book_val_ppl": book["val_ppl"],
               "reference_gflops": flops * ref["tokens_per_s"] / 1e9,
               "book_gflops": flops * book["tokens_per_s"] / 1e9,
               "gemm_fp32_gflops": gemm / 1e9}
    for precision in ("fp32", "bf16"):
        if peak[precision]:
            metrics[f"peak_{precision}_gflops"] = peak[precision] / 1e9
            metrics[f"book_{precision}_peak_fraction"] = (
                flops * book["tokens_per_s"] / peak[precision])
    metrics["book_gemm_fraction"] = flops * book["tokens_per_s"] / gemm
    variants = {}
    if ablation:   # each fast option that is on, switched off alone, against the reference
        for field in (f for f, on in asdict(options).items() if on):
            off = replace(options, **{field: False})
            other = speed.compare_speed(train_ids, valid_ids, len(vocab), cfg, off,
                                        device)
            variants[f"without_{field}"] = {
                "speedup_vs_reference": other["speedup_vs_reference"],
                "book_val_ppl": other["book"]["val_ppl"]}
            metrics[f"speedup_without_{field}"] = other["speedup_vs_reference"]
    step = speed.profile_step(len(vocab), cfg, options, device)
    record = utils.make_record(
        "speed", profile, metrics, utils.device_name(), time.perf_counter() - begin,
        config=asdict(cfg), options=asdict(options), bf16_used=result["bf16_used"],
        peak_how=peak["how"], flops_per_token=flops,
        flops_formula="3 * 2 * (sum over layers of 4 (I + H) H + H V) per token",
        round_tokens_per_s={"reference": ref["round_tokens_per_s"],
                            "book": book["round_tokens_per_s"]},
        ablation=variants, step_profile=step,
        reference="pytorch/examples word_language_model (main.py, model.py), "
                  "re-implemented in utils/torch/speed.py")
    path = utils.save_record(record, results_dir)
    print(f"reference {ref['tokens_per_s']:,.0f} tokens/s, val ppl {ref['val_ppl']:.1f}; "
          f"book {book['tokens_per_s']:,.0f} tokens/s, val ppl {book['val_ppl']:.1f}; "
          f"speed-up {result['speedup_vs_reference']:.2f}x (median of the rounds' "
          f"{result['median_round_speedup']:.2f}x; bf16 "
          f"{'used' if result['bf16_used'] else 'not available'})")
    print(f"book: {metrics['book_gflops']:.1f} GFLOP/s; peak: {peak['how']}; large "
          f"float32 matrix product here: {gemm / 1e9:.1f} GFLOP/s")
    for name, variant in variants.items():
        print(f"{name}: speed-up {variant['speedup_vs_reference']:.2f}x, val ppl "
              f"{variant['book_val_ppl']:.1f}")
    print("one step of the book's path, by operator (own time):")
    for row in step:
        print(f"  {row['op']:40s} {row['ms_per_step']:7.1f} ms  {row['share']:6.1%}")
    print(f"saved {path}")
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=sorted(speed.SPEED_SETTINGS), default=None,
                        help="default: utils.run_profile() (quick on a CPU)")
    parser.add_argument("--ablation", action="store_true",
                        help="also measure the book's path with each fast option off")
    parser.add_argument("--bf16", action="store_true",
                        help="run the book's path under bf16 autocast where the hardware "
                             "runs it natively (default: float32, like the reference)")
    parser.add_argument("--results-dir", type=Path, default=None,
                        help="where <profile>/speed.json goes (default results/)")
    args = parser.parse_args(argv)
    run(args.profile or utils.run_profile(), args.ablation, args.results_dir, args.bf16)
    return 0


if __name__ == "__main__":
    sys.exit(main())
