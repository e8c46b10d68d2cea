"""Degradation profiles: how a batch of actas really arrives, as weighted mixes of families.

A profile is a list of (weight, chain) where a chain is families joined by ``+`` (see
degrade.py). ``mixed`` mixes the other profiles; its weights can be changed on the command
line (``scanner=0.6,phone=0.25,bad-phone=0.1,damaged=0.05``).
"""

from __future__ import annotations

import numpy as np

from veedor.simulate.degrade import FAMILIES

PROFILES: dict[str, list[tuple[float, str]]] = {
    "clean": [(1.0, "clean")],
    "scanner": [(0.7, "clean"), (0.2, "scan"), (0.05, "scan+faded"), (0.05, "jpeg")],
    "phone": [
        (0.35, "phone_bottom"),
        (0.25, "phone_full"),
        (0.15, "phone_bottom+rotate"),
        (0.15, "perspective+phone_bottom"),
        (0.1, "phone_bottom+upside_down"),
    ],
    "bad-phone": [
        (0.25, "phone_bottom+dark"),
        (0.2, "phone_bottom+motion_blur"),
        (0.15, "phone_bottom+blur"),
        (0.15, "phone_full+low_res"),
        (0.15, "phone_bottom+jpeg"),
        (0.1, "phone_bottom+dark+motion_blur+jpeg"),
    ],
    "damaged": [
        (0.2, "crumpled"),
        (0.15, "crease"),
        (0.15, "stain"),
        (0.15, "finger_qr"),
        (0.1, "qr_cut"),
        (0.15, "faded"),
        (0.1, "crumpled+stain+faded"),
    ],
}
DEFAULT_MIX: dict[str, float] = {"scanner": 0.6, "phone": 0.2, "bad-phone": 0.1, "damaged": 0.1}
PROFILE_NAMES: tuple[str, ...] = (*PROFILES, "mixed")


def parse_mix(text: str | None) -> dict[str, float]:
    """``"scanner=0.6,phone=0.4"`` -> weights; unknown names are an error, not ignored."""
    if not text:
        return dict(DEFAULT_MIX)
    mix: dict[str, float] = {}
    for item in text.split(","):
        name, _, weight = item.partition("=")
        name = name.strip()
        if name not in PROFILES:
            raise ValueError(f"perfil desconocido / unknown profile {name!r}; known: {', '.join(PROFILES)}")
        mix[name] = float(weight or 1)
    if sum(mix.values()) <= 0:
        raise ValueError("la mezcla no tiene peso / the mix has no weight")
    return mix


def pick_chain(
    profile: str, rng: np.random.Generator, mix: dict[str, float] | None = None
) -> tuple[str, str]:
    """(profile actually used, chain of families) for one acta."""
    if profile == "mixed":
        weights = mix or DEFAULT_MIX
        names = list(weights)
        p = np.asarray([weights[n] for n in names], float)
        profile = names[int(rng.choice(len(names), p=p / p.sum()))]
    if profile not in PROFILES:
        raise ValueError(
            f"perfil desconocido / unknown profile {profile!r}; known: {', '.join(PROFILE_NAMES)}"
        )
    options = PROFILES[profile]
    p = np.asarray([w for w, _ in options], float)
    return profile, options[int(rng.choice(len(options), p=p / p.sum()))][1]


def _check() -> None:
    for options in PROFILES.values():
        for _, chain in options:
            unknown = set(chain.split("+")) - set(FAMILIES)
            assert not unknown, unknown


_check()
