"""Side-by-side measurements of lessonlib's numpy code against the libraries it teaches
(they import Keras or gensim); the book reports them and the benchmark command runs them.

Contenders alternate over several repetitions, limited to one thread (BLAS included), and
results are medians and ratios: the machines this course runs on are shared, so only
same-run ratios are meaningful.
"""
