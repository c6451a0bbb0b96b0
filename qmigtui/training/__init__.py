"""Training: lab scenarios that go wrong on cue, and exercises judged on what was done."""
