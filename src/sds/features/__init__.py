"""Feature engineering: profiling today; temporal, selection and the store later."""
