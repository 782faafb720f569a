#!/usr/bin/env python3
"""write_ceiling.py: how fast the device writes memory alone, against its copy ceiling.

  python3 bench/write_ceiling.py        # on the GPU machine (torch with CUDA)

A job that writes much more than it reads (im2col writes nine bytes for each it reads)
is not bound by the read + write copy ceiling the suite reports against: this times
torch's copy_ (reads + writes), zero_ and fill_ (writes only) of 512 MiB, median of 50
launches between CUDA events after 5 warm-ups, and prints each as GB/s and as % of
the copy. On an H100 80GB HBM3 (2026-12-06): the writes ran at 107% of the copy.
"""
import statistics

import torch


def median_ms(launch, reps=50):
    for _ in range(5):
        launch()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        launch()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main():
    n = 512 << 20
    src = torch.empty(n, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    src.fill_(1)
    copy_ms = median_ms(lambda: dst.copy_(src))
    copy_rate = 2 * n / copy_ms / 1e6
    print(f"# {torch.cuda.get_device_name()}, 512 MiB")
    for name, ms, moved in [("copy_ (reads + writes)", copy_ms, 2 * n),
                            ("zero_ (writes)", median_ms(lambda: dst.zero_()), n),
                            ("fill_ (writes)", median_ms(lambda: dst.fill_(7)), n)]:
        rate = moved / ms / 1e6
        print(f"{name}: {ms:.4f} ms, {rate:.1f} GB/s, {100 * rate / copy_rate:.1f}% of the copy")


if __name__ == "__main__":
    main()
