"""Sessions: start, stop, list, detail, notes, self-ratings, exports, reports, uploads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import (
    APIRouter,
    HTTPException,
    Query,
    Request,
    Response,
    status,
)
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from heartsease.api import services
from heartsease.api.deps import STREAM_ONLY, Analyser, CurrentUser, Hub, Manager, SessionDep
from heartsease.api.schemas import (
    AnnotationIn,
    RatingIn,
    SessionDetail,
    SessionOut,
    SessionStart,
    problems,
)
from heartsease.api.upload_worker import MAX_UPLOAD_BYTES, TOO_LARGE
from heartsease.coaching.profile import profile_of
from heartsease.coaching.protocols import BUILT_IN
from heartsease.reports import files
from heartsease.reports.gentle import client_report_html, client_report_pdf
from heartsease.reports.report import report_html, report_pdf
from heartsease.store.db import forget_erased
from heartsease.store.models import Annotation, Assignment, Role, SelfRating
from heartsease.store.personal import ERASED, erase_sessions
from heartsease.store.repository import audit, beats_of, sessions_of
from heartsease.wire import Command

router = APIRouter(prefix="/api/sessions", tags=["sessions"],
                   responses=problems(400, 401, 404, 422))
# Endpoints that touch a live session are ``async``: they run on the event loop that runs
# the session, never on a worker thread.


@router.post("", status_code=201, responses=problems(403, 409))
async def start(body: SessionStart, manager: Manager, db: SessionDep,
                user: CurrentUser, request: Request) -> SessionOut:
    if request.state.stream_only and body.source != "remote":
        raise HTTPException(status.HTTP_403_FORBIDDEN, STREAM_ONLY)
    row = services.start_session(db, manager, user, body)
    if user.role is Role.CLINICIAN:
        audit(db, user, "start-session", "session", row.id, row.client_id)
    return SessionOut(**services.session_out(row, live=True))


@router.get("/running", response_model=SessionOut, responses={
    204: {"description": "The client has no session running."}, **problems(403)})
def running(manager: Manager, db: SessionDep, user: CurrentUser,
            client_id: str | None = None) -> SessionOut | Response:
    """The client's running session (at most one), to carry on with or end: your own, or
    (a clinician) an assigned client's."""
    client = services.client_for(db, user, client_id)
    row = services.running_session(db, manager, client.id)
    if row is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    if user.role is Role.CLINICIAN:
        audit(db, user, "read-session", "session", row.id, row.client_id)
    return SessionOut(**services.session_out(row, live=True))


@router.post("/{session_id}/stop")
async def stop(session_id: str, manager: Manager, hub: Hub, db: SessionDep,
               user: CurrentUser) -> SessionOut:
    row = services.visible_session(db, user, session_id, "stop-session")
    db.commit()
    if manager.get(session_id) is None:
        hub.control(session_id, {"type": Command.STOP})  # on another worker
    await manager.stop(session_id)
    db.refresh(row)
    return SessionOut(**services.session_out(row, live=False))


@router.delete("/{session_id}", status_code=204, responses=problems(403))
async def delete_session(session_id: str, manager: Manager, hub: Hub, db: SessionDep,
                         user: CurrentUser) -> Response:
    """A client deletes one of their sessions: its beats, events, notes and ratings (stopped
    first when it runs). Its audit lines stay, naming it no more."""
    row = services.visible_session(db, user, session_id)
    if user.id != row.client_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "Only the client deletes their session.")
    db.commit()
    if manager.get(session_id) is None:
        hub.control(session_id, {"type": Command.STOP})  # on another worker
    await manager.stop(session_id)
    erase_sessions(db, [row.id])
    audit(db, user, "delete-session", "session", ERASED, row.client_id)
    db.commit()
    await run_in_threadpool(forget_erased, db.get_bind())
    return Response(status_code=204)


@router.get("")
def list_sessions(manager: Manager, db: SessionDep, user: CurrentUser,
                  client_id: str | None = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[SessionOut]:
    if user.role is Role.CLIENT:
        clients = [user.id]
    elif user.role is Role.CLINICIAN:
        assigned = [a.client_id for a in db.scalars(
            select(Assignment).where(Assignment.clinician_id == user.id))]
        clients = [c for c in assigned if client_id in (None, c)]
        for c in clients:
            audit(db, user, "list-sessions", "client", c, c)
    else:
        clients = []
    live = manager.is_live
    return [SessionOut(**services.session_out(r, live(r.id)))
            for r in sessions_of(db, clients, limit=limit)]


@router.get("/{session_id}")
def detail(session_id: str, manager: Manager, db: SessionDep,
           user: CurrentUser) -> SessionDetail:
    row = services.visible_session(db, user, session_id, "read-session")
    return SessionDetail(**services.session_detail(db, row, manager.is_live(session_id)))


@router.post("/{session_id}/annotations", status_code=201, responses=problems(403))
async def annotate(session_id: str, body: AnnotationIn, manager: Manager, db: SessionDep,
             user: CurrentUser) -> dict[str, object]:
    if user.role is not Role.CLINICIAN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Annotations are for clinicians.")
    row = services.visible_session(db, user, session_id, "annotate")
    running = manager.get(session_id)
    if running is not None:
        running.loop.annotate(body.text, user.name)
        t_s = running.loop.now_s()
    else:
        t_s = body.t_s if body.t_s is not None else 0.0
    db.add(Annotation(session_id=row.id, author_id=user.id, t_s=t_s, text=body.text))
    return {"t_s": t_s, "text": body.text, "live": running is not None}


@router.post("/{session_id}/ratings", status_code=201, responses=problems(403))
async def rate(session_id: str, body: RatingIn, manager: Manager, db: SessionDep,
         user: CurrentUser) -> dict[str, object]:
    row = services.visible_session(db, user, session_id)
    if user.id != row.client_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only the client rates their session.")
    running = manager.get(session_id)
    # The moment it was given: the live session's time, or (running on another worker, or
    # over) the time since the session began.
    given_at = datetime.now(UTC)
    t_s = running.loop.now_s() if running is not None else \
        (given_at - row.started_at).total_seconds()
    db.add(SelfRating(session_id=row.id, t_s=t_s, scale=body.scale, value=body.given,
                      given_at=given_at))
    return {"t_s": t_s, "scale": body.scale, "value": body.value}


@router.get("/{session_id}/export", response_class=Response, responses={
    **problems(409), 200: {"description": "The beats as a file, in the format asked for.",
                           "content": {"text/plain": {}, "text/csv": {},
                                       "application/json": {}, "application/octet-stream": {}}}})
def export(session_id: str, db: SessionDep, user: CurrentUser,
           format: Literal["rr", "csv", "json", "edf"] = "rr") -> Response:
    row = services.visible_session(db, user, session_id)
    audit(db, user, "export", "session", row.id, row.client_id, format)
    beats = beats_of(db, row.id)
    header = services.header_of(row)
    record = services.stored_record(db, row)
    name = f"heartsease-{row.started_at:%Y%m%d-%H%M}-{row.id[:8]}"
    if format == "rr":
        return _file(files.rr_text(beats, header), "text/plain", f"{name}.txt")
    if format == "csv":
        return _file(files.beats_csv(beats), "text/csv", f"{name}.csv")
    if format == "json":
        return _file(files.session_json(header, beats, record), "application/json",
                     f"{name}.json")
    try:
        return _file(files.edf_plus(header, beats, record), "application/octet-stream",
                     f"{name}.edf")
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None


@router.get("/{session_id}/report", response_class=Response, responses={
    200: {"description": "The session's report.",
          "content": {"text/html": {}, "application/pdf": {}}}})
def report(session_id: str, db: SessionDep, user: CurrentUser,
           format: Literal["html", "pdf"] = "html") -> Response:
    """The clinician's report (states, the shift log, notes) for a clinician; the client's
    own, gentle report (their practice, ratings and words; no scores) for the client."""
    row = services.visible_session(db, user, session_id)
    audit(db, user, "report", "session", row.id, row.client_id, format)
    header = services.header_of(row)
    record = services.stored_record(db, row)
    if user.role is Role.CLIENT:
        ratings, words = services.own_words_of(db, row)
        if format == "pdf":
            return _file(client_report_pdf(header, record, ratings, words), "application/pdf",
                         f"heartsease-your-session-{row.id[:8]}.pdf")
        return Response(client_report_html(header, record, ratings, words),
                        media_type="text/html")
    beats = beats_of(db, row.id)
    client = services.report_client(db, row)
    if format == "pdf":
        return _file(report_pdf(header, beats, record, client), "application/pdf",
                     f"heartsease-report-{row.id[:8]}.pdf")
    return Response(report_html(header, beats, record, client), media_type="text/html")


# The upload's form as documented; the service reads it in the upload's worker process
# (heartsease.api.upload_worker.read_form), not as FastAPI would, on the event loop.
UPLOAD_FORM = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "contentMediaType": "application/octet-stream",
                 "description": "An RR recording"},
        "protocol": {"type": "string", "enum": list(BUILT_IN), "default": "srb"}}}}}}}
# The form's own lines (boundaries, the part headers, the protocol) around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


@router.post("/uploads", status_code=201, responses=problems(403, 413, 429, 503),
             openapi_extra=UPLOAD_FORM)
async def upload(request: Request, db: SessionDep, user: CurrentUser,
                 analyser: Analyser) -> SessionOut:
    """A recording in any format ``heartsease analyze`` reads, analysed into a session.
    One person has at most two uploads being analysed at a time (429 beyond)."""
    if user.role is not Role.CLIENT:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Clients upload their own recordings.")
    with analyser.slot(user.id):
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES:
                raise HTTPException(413, TOO_LARGE)
        profile, client_id = profile_of(user), user.id
        db.close()  # its connection back to the pool while the recording is analysed
        stored = await analyser.analyse_and_store(
            bytes(body), request.headers.get("content-type", ""), profile.pace_bpm,
            profile.resting_baseline(), client_id)
    return SessionOut(**stored)


def _file(content: str | bytes, media_type: str, filename: str) -> Response:
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
