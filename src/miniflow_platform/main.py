"""The app factory: ``create_app(settings)`` wires DB, executor, scheduler and routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from miniflow_platform import __version__, openapi as openapi_doc, proxy
from miniflow_platform.auth import service as auth_service
from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.auth.router import router as users_router
from miniflow_platform.body_limit import BodyLimit
from miniflow_platform.capacity.router import router as capacity_router
from miniflow_platform.config import Settings
from miniflow_platform.context import Platform
from miniflow_platform.db import Base, add_missing_columns, make_engine, make_session_factory
from miniflow_platform.deps import no_unknown_query
from miniflow_platform.errors import PlatformError, error_body
from miniflow_platform.executors import Executor, get_executor
from miniflow_platform.jobs import service as jobs_service
from miniflow_platform.jobs.router import router as jobs_router
from miniflow_platform.model_metrics.router import router as model_metrics_router
from miniflow_platform.notebooks import service as notebooks_service
from miniflow_platform.notebooks.router import router as notebooks_router
from miniflow_platform.pipelines import service as pipelines_service
from miniflow_platform.pipelines.router import router as pipelines_router
from miniflow_platform.platform_info import PlatformInfo, describe
from miniflow_platform.predictions.router import router as predictions_router
from miniflow_platform.scheduler import Scheduler
from miniflow_platform.schedules import service as schedules_service
from miniflow_platform.schedules.clock import FileClock
from miniflow_platform.schedules.router import router as schedules_router
from miniflow_platform.serving import service as serving_service
from miniflow_platform.serving.router import router as serving_router
from miniflow_platform.tracking import service as tracking_service
from miniflow_platform.tracking.router import router as tracking_router
from miniflow_platform.ui.router import router as ui_router
from miniflow_platform.uploads.router import router as uploads_router

log = logging.getLogger(__name__)

STEPS = (
    jobs_service.sync_running,
    tracking_service.sync_runs,  # ended jobs: revoke run tokens, ingest metrics files
    pipelines_service.advance_runs,  # after the sync: ended steps release their dependants
    schedules_service.fire_due,  # new runs' first jobs start in this tick's start_queued
    jobs_service.start_queued,
    notebooks_service.sync_notebooks,
    serving_service.sync_services,
)


def build_platform(settings: Settings, executor: Executor | None = None) -> Platform:
    """DB tables, session factory and executor for ``settings`` (no threads started)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    add_missing_columns(engine)
    platform = Platform(
        settings=settings,
        sessions=make_session_factory(engine),
        executor=executor or get_executor(settings.executor, settings),
        job_env_hooks=[tracking_service.job_env],
    )
    if settings.clock_file is not None:
        platform.clock = FileClock(settings.clock_file)
    return platform


def ensure_admin(platform: Platform) -> str | None:
    """Create the admin user on first start; returns its token (to print once) or None."""
    with platform.sessions() as session:
        return auth_service.ensure_admin(session)


def create_app(
    settings: Settings, *, platform: Platform | None = None, run_scheduler: bool = True
) -> FastAPI:
    platform = platform or build_platform(settings)
    scheduler = Scheduler(platform, STEPS)

    @asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[None]:
        if run_scheduler:
            scheduler.start()
        try:
            yield
        finally:
            scheduler.stop()  # runs keep going: the next server adopts them
            platform.executor.close()
            await proxy.close_client(running.state)

    app = FastAPI(
        title="miniflow platform",
        version=__version__,
        lifespan=lifespan,
        dependencies=[Depends(no_unknown_query)],
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        description="Training jobs, notebooks, model services and batch "
        "prediction jobs behind one API. Every endpoint but "
        "/healthz needs `Authorization: Bearer <token>`.",
    )
    app.state.platform = platform
    app.state.scheduler = scheduler

    install_error_handlers(app)
    app.add_middleware(BodyLimit, limits=lambda: settings.limits, upload_prefix="/v1/uploads")

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: no token needed."""
        return {"status": "ok"}

    @app.get("/v1/platform", tags=["platform"])
    def platform_info(_user: CurrentUser) -> PlatformInfo:
        """The server's version and job isolation mode (docs/platform.md, threat model)."""
        return describe(platform)

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi_doc.build(app)
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]  # app.openapi() agrees with the route

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_user: CurrentUser) -> JSONResponse:
        return JSONResponse(app.openapi())

    for router in (
        users_router,
        jobs_router,
        predictions_router,
        uploads_router,
        notebooks_router,
        serving_router,
        pipelines_router,
        schedules_router,
        model_metrics_router,
        tracking_router,
        capacity_router,
        ui_router,
    ):
        app.include_router(router)
    return app


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves in one shape: ``{"error": {"code", "message", "details"}}``."""

    @app.exception_handler(PlatformError)
    async def _platform_error(_request: Request, exc: PlatformError) -> JSONResponse:
        body = error_body(exc.status_code, str(exc), exc.code, exc.details)
        return JSONResponse(body, status_code=exc.status_code)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = "no such endpoint"
        body = error_body(
            exc.status_code, message, getattr(exc, "code", None), getattr(exc, "details", None)
        )
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(x) for x in first["loc"])
        message = f"invalid request: {where}: {first['msg']}" if where else first["msg"]
        if len(problems) > 1:
            message += f" (and {len(problems) - 1} more)"
        # Errors from our own validators (type value_error) are rules the schema cannot
        # state (e.g. "exactly one of"): the same code as the services' 422s.
        own = problems and all(p["type"] == "value_error" for p in problems)
        body = error_body(422, message, "invalid_request" if own else "validation_error", problems)
        return JSONResponse(body, status_code=422)

    @app.exception_handler(Exception)
    async def _internal(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        body = error_body(500, f"internal error: {type(exc).__name__}")
        return JSONResponse(body, status_code=500)
