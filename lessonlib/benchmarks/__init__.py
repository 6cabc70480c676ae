"""Side-by-side measurements of lessonlib's numpy code against the libraries it teaches.

Each benchmark runs its contenders in fresh subprocesses limited to one thread (BLAS
included), alternating them over several repetitions, and reports medians and ratios:
the machines this course runs on are shared, so only same-run ratios are meaningful.
"""
