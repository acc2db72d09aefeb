"""Session protocols as data: steps, pacer rates and cue texts a clinician can read and edit.

A protocol is a TOML file (the built-in ones are in ``heartsease/coaching/protocols/``).
Each step has a name, a length, what the pacer does and the cues said during it:

- ``pacer``: ``"off"`` (no pacer), a rate in breaths/min, ``"pace"`` (the client's own pace:
  their resonance rate when known, else 6/min) or ``"own"`` (the client's spontaneous rate,
  as measured from the heartbeat while arriving); ``glide_to`` makes the pacer glide across
  the step from ``pacer`` to that rate;
- ``baseline = true``: the step the classifier takes as the person's resting reference when
  no stored one exists; ``practice = true``: the backdraft guard watches it;
  ``assess = true``: the resonance assessment measures the response to its rate;
  ``optional = true``: included only when a therapist asks for it (``--stage NAME``);
  ``part_of = "STAGE"``: an optional step that comes with that stage (a letter's read-back);
- ``fade = true``: the pacer fades out across the step, so the rhythm is kept from inside
  (the screen draws it fainter and fainter; it still runs, for the heart's measures);
- ``workspace = "letter"``: the step is a writing workspace, its ``prompts`` (each a
  ``name`` and a ``text``) offered beside it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from heartsease.coaching.pacer import BreathPattern

DEFAULT_PACE_BPM = 6.0
# Settling starts at the client's own rate, but never faster than this: starting from 15 or
# 18 a minute would make the first paced breaths feel rushed.
MAX_SETTLING_START_BPM = 12.0
UNKNOWN_OWN_RATE_BPM = 10.0
GLIDE_SAMPLE_S = 5.0

PacerSpec = float | str | None  # a rate, "pace", "own", or None (off)


class ProtocolError(ValueError):
    """A protocol file that cannot be used, with the reason and where."""


@dataclass(frozen=True, slots=True)
class Cue:
    """Words said ``at_s`` seconds into a step."""

    at_s: float
    text: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """One of a workspace's prompts (the letter's: the pain, common humanity, ...)."""

    name: str
    text: str


WORKSPACES = frozenset({"letter"})


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a protocol."""

    name: str
    title: str
    seconds: float
    pacer: PacerSpec = None
    glide_to: PacerSpec = None
    baseline: bool = False
    practice: bool = False
    assess: bool = False
    optional: bool = False
    part_of: str | None = None
    fade: bool = False
    workspace: str | None = None
    prompts: tuple[Prompt, ...] = ()
    cues: tuple[Cue, ...] = ()

    def pacer_rates(self, pace_bpm: float, own_bpm: float | None) -> tuple[float, float] | None:
        """The pacer's rate at the start and end of the step, or ``None`` when it is off."""
        start = _rate(self.pacer, pace_bpm, own_bpm)
        if start is None:
            return None
        end = _rate(self.glide_to, pace_bpm, own_bpm)
        return start, start if end is None else end


def _rate(spec: PacerSpec, pace_bpm: float, own_bpm: float | None) -> float | None:
    if spec is None:
        return None
    if spec == "pace":
        return pace_bpm
    if spec == "own":
        own = UNKNOWN_OWN_RATE_BPM if own_bpm is None else own_bpm
        return min(max(own, pace_bpm), MAX_SETTLING_START_BPM)
    return float(spec)


@dataclass(frozen=True, slots=True)
class Protocol:
    """A named sequence of steps with a breathing pattern.

    ``all_steps`` keeps the file's order, optional stages included; ``steps`` are the ones a
    session runs: every step that is not optional, and the optional ones in ``stages``.

    Examples
    --------
    >>> srb = load_protocol("srb")
    >>> [s.name for s in srb.steps], srb.duration_s()
    (['baseline', 'settling', 'practice', 'keeping-rhythm', 'recovery'], 960.0)
    >>> [s.name for s in srb.with_stages(["compassionate-letter"]).steps][3:5]
    ['compassionate-letter', 'letter-read-back']
    """

    name: str
    title: str
    description: str
    pattern: BreathPattern
    all_steps: tuple[Step, ...]
    stages: frozenset[str] = frozenset()

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.all_steps if not s.optional or s.name in self.stages
                     or s.part_of in self.stages)

    @property
    def stage_names(self) -> tuple[str, ...]:
        """The optional stages a therapist may add, in the file's order."""
        return tuple(s.name for s in self.all_steps if s.optional and s.part_of is None)

    def duration_s(self) -> float:
        return sum(s.seconds for s in self.steps)

    def with_stages(self, names: Iterable[str]) -> Protocol:
        """The protocol with the named optional stages included."""
        wanted = set(names)
        known = set(self.stage_names)
        if wanted - known:
            raise ProtocolError(
                f"{self.name} has no optional stage {', '.join(sorted(wanted - known))}; "
                f"it has: {', '.join(sorted(known)) or 'none'}")
        return replace(self, stages=frozenset(wanted))

    def with_practice_minutes(self, minutes: float) -> Protocol:
        """The protocol with its first practice step lasting ``minutes`` (a cue that no
        longer fits in it is left out, as a file's cue must fall within its step)."""
        if minutes <= 0:
            raise ProtocolError("practice must last longer than zero minutes")
        steps = list(self.all_steps)
        seconds = 60.0 * minutes
        for i, s in enumerate(steps):
            if s.practice:
                steps[i] = replace(s, seconds=seconds,
                                   cues=tuple(c for c in s.cues if c.at_s < seconds))
                return replace(self, all_steps=tuple(steps))
        raise ProtocolError(f"{self.title} ({self.name}) has no practice step, so no "
                            "practice minutes to set")

    def schedule(
        self, pace_bpm: float = DEFAULT_PACE_BPM, own_bpm: float | None = None
    ) -> list[tuple[float, float | None]]:
        """The pacer over the whole protocol as ``(seconds, rate or None)`` pieces, glides
        sampled every 5 s: what a simulated breather is asked to follow."""
        out: list[tuple[float, float | None]] = []
        for step in self.steps:
            rates = step.pacer_rates(pace_bpm, own_bpm)
            if rates is None or rates[0] == rates[1]:
                out.append((step.seconds, None if rates is None else rates[0]))
                continue
            n = max(int(step.seconds // GLIDE_SAMPLE_S), 1)
            for k in range(n):
                share = (k + 0.5) / n
                out.append((step.seconds / n, rates[0] + share * (rates[1] - rates[0])))
        return out


BUILT_IN = ("srb", "resonance")


def load_protocol(name_or_path: str | Path) -> Protocol:
    """A built-in protocol by name (``srb``, ``resonance``) or a protocol TOML file."""
    path = Path(name_or_path)
    if str(name_or_path) in BUILT_IN:
        text = builtin_text(str(name_or_path))
        where = f"built-in protocol {name_or_path}"
    elif path.suffix == ".toml" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ProtocolError(f"cannot read {path}: {exc.strerror}") from None
        where = str(path)
    else:
        raise ProtocolError(f"unknown protocol {str(name_or_path)!r}: use one of "
                            f"{', '.join(BUILT_IN)} or a .toml file")
    return protocol_from_text(text, where)


def builtin_text(name: str) -> str:
    """A built-in protocol's file, as a clinician would copy it to edit."""
    if name not in BUILT_IN:
        raise ProtocolError(f"unknown protocol {name!r}: use one of {', '.join(BUILT_IN)}")
    return (resources.files("heartsease.coaching") / "protocols" / f"{name}.toml"
            ).read_text(encoding="utf-8")


def protocol_from_text(text: str, where: str = "protocol") -> Protocol:
    """Parse and check a protocol's TOML text, as :func:`load_protocol` checks a file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"{where} is not valid TOML: {exc}") from None
    return protocol_from_dict(data, where)


def protocol_from_dict(data: dict[str, Any], where: str = "protocol") -> Protocol:
    """Build and check a :class:`Protocol` from parsed TOML (or JSON)."""
    try:
        pattern = BreathPattern(**{k: float(v) for k, v in data.get("pattern", {}).items()})
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"{where}: [pattern]: {exc}") from None
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ProtocolError(f"{where}: needs at least one [[steps]]")
    steps = [_step(raw, f"{where}: step {i + 1}") for i, raw in enumerate(raw_steps)]
    names = [s.name for s in steps]
    if len(set(names)) != len(names):
        raise ProtocolError(f"{where}: step names must be unique")
    stages = {s.name for s in steps if s.optional and s.part_of is None}
    for s in steps:
        if s.part_of is not None and (not s.optional or s.part_of not in stages):
            raise ProtocolError(f"{where}: step {s.name}: part_of must name an optional stage,"
                                f" and the step be optional itself")
    return Protocol(
        name=str(data.get("name", Path(where).stem)),
        title=str(data.get("title", data.get("name", "Breathing session"))),
        description=" ".join(str(data.get("description", "")).split()),
        pattern=pattern,
        all_steps=tuple(steps),
    )


STEP_KEYS = {"name", "title", "seconds", "pacer", "glide_to", "baseline", "practice", "assess",
             "optional", "part_of", "fade", "workspace", "prompts", "cues"}


def _step(raw: Any, where: str) -> Step:
    if not isinstance(raw, dict):
        raise ProtocolError(f"{where}: must be a table")
    unknown = set(raw) - STEP_KEYS
    if unknown:
        raise ProtocolError(f"{where}: unknown key {', '.join(sorted(unknown))}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ProtocolError(f"{where}: needs a name")
    where = f"{where} ({name})"
    seconds = raw.get("seconds")
    if not isinstance(seconds, int | float) or seconds <= 0:
        raise ProtocolError(f"{where}: seconds must be a positive number")
    pacer = _spec(raw.get("pacer", "off"), f"{where}: pacer")
    glide_to = _spec(raw.get("glide_to"), f"{where}: glide_to")
    if glide_to is not None and pacer is None:
        raise ProtocolError(f"{where}: glide_to needs a pacer to glide from")
    if raw.get("fade") and pacer is None:
        raise ProtocolError(f"{where}: fade needs a pacer to fade")
    workspace = raw.get("workspace")
    if workspace is not None and workspace not in WORKSPACES:
        raise ProtocolError(f"{where}: workspace must be one of {', '.join(sorted(WORKSPACES))}")
    if raw.get("prompts") and workspace is None:
        raise ProtocolError(f"{where}: prompts need a workspace")
    part_of = raw.get("part_of")
    return Step(
        name=name, title=str(raw.get("title", name)), seconds=float(seconds), pacer=pacer,
        glide_to=glide_to, baseline=bool(raw.get("baseline", False)),
        practice=bool(raw.get("practice", False)), assess=bool(raw.get("assess", False)),
        optional=bool(raw.get("optional", False)),
        part_of=None if part_of is None else str(part_of), fade=bool(raw.get("fade", False)),
        workspace=workspace, prompts=_prompts(raw.get("prompts", []), where),
        cues=_cues(raw.get("cues", []), seconds, where),
    )


def _cues(raw: Any, seconds: float, where: str) -> tuple[Cue, ...]:
    cues = []
    for cue in raw:
        if not isinstance(cue, dict) or not isinstance(cue.get("text"), str):
            raise ProtocolError(f"{where}: each cue needs a text")
        at = cue.get("at", 0)
        if not isinstance(at, int | float) or not 0 <= at < seconds:
            raise ProtocolError(f"{where}: cue 'at' must be within the step (0-{seconds} s)")
        cues.append(Cue(float(at), " ".join(cue["text"].split())))
    return tuple(sorted(cues, key=lambda c: c.at_s))


def _prompts(raw: Any, where: str) -> tuple[Prompt, ...]:
    prompts = []
    for prompt in raw:
        if not isinstance(prompt, dict) or not all(
                isinstance(prompt.get(k), str) and prompt[k] for k in ("name", "text")):
            raise ProtocolError(f"{where}: each prompt needs a name and a text")
        prompts.append(Prompt(prompt["name"], " ".join(prompt["text"].split())))
    return tuple(prompts)


def _spec(value: Any, where: str) -> PacerSpec:
    if value is None or value == "off":
        return None
    if value in ("pace", "own"):
        return str(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and 2 <= value <= 30:
        return float(value)
    raise ProtocolError(f"{where} must be 'off', 'pace', 'own' or a rate of 2-30 breaths/min,"
                        f" not {value!r}")
