"""Classic hypothesis tests with effect sizes, intervals and assumption notes.

Today: t-tests (Welch, Student, paired, one-sample), Mann-Whitney U, chi-square
(independence, goodness of fit), Fisher (2x2), one-way and Welch ANOVA, Kruskal-Wallis. The CLI
(``sds stats``), the remaining tests, regressions and ``--test auto`` arrive with issue 5.
"""
