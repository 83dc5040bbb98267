"""Classic hypothesis tests with effect sizes, intervals and assumption notes.

Today: t-tests (Welch, Student, paired, one-sample) and the Mann-Whitney U test. The CLI
(``sds stats``), the remaining tests, regressions and ``--test auto`` arrive with issue 5.
"""
