"""The prior of the global dynamics: the box each calibrated parameter is searched in (uniform on it).

It belongs to the scenario's dynamics (scenarios/README.md's "calibrate box" column): the
calibration samples it, the posterior file is checked against it, sensitivity analysis
sweeps it by default.
"""

from __future__ import annotations

# the search box: wide enough to hold every plausible value, documented in scenarios/README.md
# stubbornness_scale multiplies every actor's odds of holding its view (kpsim.model.plenary.held_view): at the
# roster's 0.5 the box spans held views 0.17–0.95, so no value in it fixes anybody's position. The first fit
# with the live dynamics (2026-11-30) sat at the upper edges of noise 0.6, amendment_step 0.6 and
# stubbornness_scale 5: those edges were widened, not the data bent
BOX = {
    "noise": (0.02, 1.0),
    "reluctance": (0.0, 0.3),
    "amendment_step": (0.0, 1.0),
    "lobbying": (0.0, 0.5),
    "stubbornness_scale": (0.2, 20.0),
    "acquiescence_isolation": (0.0, 0.5),
    "acquiescence_time": (0.0, 0.05),
}
