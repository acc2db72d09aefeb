"""Cues in a clinician's own voice: which cues there are to record, the checks on a recording,
and which recording a client hears.

A recording belongs to the clinician who made it and is found by its cue's words (their
SHA-256), so it plays wherever those words are said: in any protocol, and for the loop's own
cues (grounding, a pause, welcome back). A cue whose words change in a protocol file is spoken
by the browser again until it is recorded anew. A client hears the recordings of the
clinicians assigned to them (the newest, when two recorded the same cue); nobody else hears
them. Recording and erasing are audit-logged; a clinician's voice is in their account export
and goes when their account is closed.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from heartsease.coaching import backdraft, runner, session
from heartsease.coaching.protocols import BUILT_IN, load_protocol
from heartsease.store.models import Assignment, User, VoiceRecording

MAX_RECORDING_BYTES = 1_000_000  # a minute of speech as Opus at 64 kbit/s is about 480 kB
# What MediaRecorder makes in Chromium and Firefox (WebM, Ogg), in Safari (MP4), and the
# usual files (MP3, WAV), each with how its bytes begin: a file whose bytes say otherwise is
# refused, so nothing but sound is ever served back as sound.
MEDIA_TYPES = {"audio/webm": (b"\x1a\x45\xdf\xa3",), "audio/ogg": (b"OggS",),
               "audio/mp4": (), "audio/mpeg": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
               "audio/wav": (b"RIFF",)}
WHEN_NEEDED = "Said when needed"
LOOP_CUES = (backdraft.CUE_GROUNDING, backdraft.CUE_PAUSE, backdraft.CUE_WELCOME_BACK,
             backdraft.CUE_CHECK_IN, runner.CUE_HOLDING, session.CUE_SETTLING, session.CUE_GAP,
             session.CUE_CONTACT)


def cue_key(text: str) -> str:
    """The key of a cue's words.

    Examples
    --------
    >>> cue_key("Welcome back. Go gently, at whatever pace feels right.")[:12]
    '23b9929a808f'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class CueToRecord:
    """One cue's words, with where it is said (a protocol's step, or when needed)."""

    protocol: str
    step: str
    text: str

    @property
    def key(self) -> str:
        return cue_key(self.text)


@functools.cache  # the built-in protocols are files of the package: read once
def cues_to_record() -> tuple[CueToRecord, ...]:
    """Every cue of the built-in protocols, optional stages included, in the order a client
    meets them, then the loop's own cues; words said in two places are listed once."""
    found: dict[str, CueToRecord] = {}
    for name in BUILT_IN:
        protocol = load_protocol(name)
        for step in protocol.all_steps:
            for cue in step.cues:
                found.setdefault(cue_key(cue.text), CueToRecord(protocol.title, step.title,
                                                                cue.text))
    for text in LOOP_CUES:
        found.setdefault(cue_key(text), CueToRecord(WHEN_NEEDED, WHEN_NEEDED, text))
    return tuple(found.values())


def cue_by_key(key: str) -> CueToRecord:
    for cue in cues_to_record():
        if cue.key == key:
            return cue
    raise HTTPException(status.HTTP_404_NOT_FOUND, "No cue has those words.")


def checked_audio(raw: bytes, content_type: str | None) -> tuple[bytes, str]:
    """The recording and its media type, if it is sound of a kind pages play and not too
    long; else 413 or 415, saying why."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            "A recording is WebM, Ogg, MP4, MP3 or WAV sound.")
    if len(raw) > MAX_RECORDING_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            "That recording is larger than 1 MB; a cue takes under a minute.")
    starts = MEDIA_TYPES[media_type]
    if not raw or (starts and not raw.startswith(starts)) or \
            (media_type == "audio/mp4" and raw[4:8] != b"ftyp"):
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            f"That file is not {media_type} sound.")
    return raw, media_type


def recording_out(row: VoiceRecording) -> dict[str, Any]:
    return {"id": row.id, "media_type": row.media_type, "bytes": len(row.audio),
            "recorded_at": row.recorded_at}


def recordings_of(db: Session, clinician_id: str) -> dict[str, VoiceRecording]:
    rows = db.scalars(select(VoiceRecording).where(VoiceRecording.clinician_id == clinician_id))
    return {r.cue_sha256: r for r in rows}


def heard_by(db: Session, client: User) -> list[VoiceRecording]:
    """The recordings a client hears: their clinicians', the newest for each cue."""
    rows = db.scalars(select(VoiceRecording)
                      .join(Assignment, Assignment.clinician_id == VoiceRecording.clinician_id)
                      .where(Assignment.client_id == client.id)
                      .order_by(VoiceRecording.recorded_at))
    return list({r.cue_sha256: r for r in rows}.values())


def may_hear(db: Session, user: User, row: VoiceRecording) -> bool:
    return row.clinician_id == user.id or any(r.id == row.id for r in heard_by(db, user))


def exported(db: Session, clinician_id: str) -> list[dict[str, Any]]:
    """A clinician's recordings for their account export, the sound as base64."""
    return [{"cue": row.text, "media_type": row.media_type, "recorded_at": row.recorded_at,
             "audio_base64": base64.b64encode(row.audio).decode("ascii")}
            for row in sorted(recordings_of(db, clinician_id).values(),
                              key=lambda r: r.recorded_at)]


def erase_all(db: Session, clinician_id: str) -> int:
    """Every recording of a clinician, gone; how many there were."""
    result = db.execute(delete(VoiceRecording).where(
        VoiceRecording.clinician_id == clinician_id))
    return int(getattr(result, "rowcount", 0) or 0)
