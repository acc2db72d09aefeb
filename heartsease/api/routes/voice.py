"""Cues in a clinician's own voice: the clinician records them (one recording per cue,
replaced when recorded again), their clients hear them with the eyes closed in place of the
browser's speech (:mod:`heartsease.api.voice`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Path, Response, UploadFile, status

from heartsease.api import voice
from heartsease.api.deps import Clinician, CurrentUser, SessionDep
from heartsease.api.schemas import problems
from heartsease.store.models import Role, VoiceRecording
from heartsease.store.repository import audit

router = APIRouter(prefix="/api", tags=["voice"], responses=problems(400, 401, 403, 404, 422))
CueKey = Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="The SHA-256 of the "
                                                                 "cue's words")]
RecordingId = Annotated[str, Path(pattern="^[0-9a-f]{32}$")]


@router.get("/clinician/cues")
def cues(db: SessionDep, clinician: Clinician) -> list[dict[str, Any]]:
    """The cues of the protocols and the loop's own, each with the clinician's recording
    of it, if they made one."""
    mine = voice.recordings_of(db, clinician.id)
    return [{"key": cue.key, "protocol": cue.protocol, "step": cue.step, "text": cue.text,
             "recording": None if cue.key not in mine else voice.recording_out(mine[cue.key])}
            for cue in voice.cues_to_record()]


@router.put("/clinician/cues/{key}/recording", responses=problems(413, 415))
def record(key: CueKey, db: SessionDep, clinician: Clinician,
           audio: Annotated[UploadFile, File(description="The cue, spoken")]
           ) -> dict[str, Any]:
    """The cue in the clinician's voice (WebM, Ogg, MP4, MP3 or WAV, up to 1 MB),
    replacing any earlier recording of it."""
    # Not async: the store is written from the worker threads, as every other route does,
    # so a write lock held between flush and commit never waits on the event loop.
    cue = voice.cue_by_key(key)
    raw, media_type = voice.checked_audio(audio.file.read(voice.MAX_RECORDING_BYTES + 1),
                                          audio.content_type)
    row = voice.recordings_of(db, clinician.id).get(key)
    if row is None:
        row = VoiceRecording(clinician_id=clinician.id, cue_sha256=key, text=cue.text)
        db.add(row)
    row.audio, row.media_type, row.recorded_at = raw, media_type, datetime.now(UTC)
    db.flush()
    audit(db, clinician, "record-voice", "voice", row.id, None, cue.text[:60])
    return voice.recording_out(row)


@router.delete("/clinician/cues/{key}/recording", status_code=204)
def erase(key: CueKey, db: SessionDep, clinician: Clinician) -> Response:
    row = voice.recordings_of(db, clinician.id).get(key)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "You have not recorded that cue.")
    audit(db, clinician, "erase-voice", "voice", row.id, None, row.text[:60])
    db.delete(row)
    return Response(status_code=204)


@router.delete("/clinician/recordings", status_code=204)
def erase_every(db: SessionDep, clinician: Clinician) -> Response:
    """Every cue the clinician recorded, erased."""
    audit(db, clinician, "erase-voice", "voice", "all", None,
          f"{voice.erase_all(db, clinician.id)} recordings")
    return Response(status_code=204)


@router.get("/me/voice")
def voices(db: SessionDep, user: CurrentUser) -> list[dict[str, str]]:
    """For a client, the cues their clinicians recorded (the words, and where to hear
    them); for a clinician, their own."""
    rows = voice.heard_by(db, user) if user.role is Role.CLIENT else \
        list(voice.recordings_of(db, user.id).values())
    return [{"text": r.text, "url": f"/api/voice/{r.id}"} for r in rows]


@router.get("/voice/{recording_id}", response_class=Response,
            responses={200: {"content": {t: {} for t in voice.MEDIA_TYPES}}})
def listen(recording_id: RecordingId, db: SessionDep, user: CurrentUser) -> Response:
    """One recording, for its clinician and the clients assigned to them."""
    row = db.get(VoiceRecording, recording_id)
    if row is None or not voice.may_hear(db, user, row):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such recording, or not yours to "
                            "hear.")
    return Response(row.audio, media_type=row.media_type)
