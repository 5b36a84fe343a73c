"""The regression gate: settings, samples, intervals and decisions (pure, no pandas), stored baselines, the
A/B measurement, `bench check` and the gate's own error rates."""
