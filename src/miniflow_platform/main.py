"""The app factory: ``create_app(settings)`` wires DB, executor, scheduler and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from miniflow_platform import __version__
from miniflow_platform.auth import service as auth_service
from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.auth.router import router as users_router
from miniflow_platform.config import Settings
from miniflow_platform.context import Platform
from miniflow_platform.db import Base, make_engine, make_session_factory
from miniflow_platform.errors import PlatformError
from miniflow_platform.executors import Executor, get_executor
from miniflow_platform.jobs import service as jobs_service
from miniflow_platform.jobs.router import router as jobs_router
from miniflow_platform.notebooks import service as notebooks_service
from miniflow_platform.notebooks.router import router as notebooks_router
from miniflow_platform.predictions.router import router as predictions_router
from miniflow_platform.scheduler import Scheduler
from miniflow_platform.serving import service as serving_service
from miniflow_platform.serving.router import router as serving_router

STEPS = (
    jobs_service.sync_running,
    jobs_service.start_queued,
    notebooks_service.sync_notebooks,
    serving_service.sync_services,
)


def build_platform(settings: Settings, executor: Executor | None = None) -> Platform:
    """DB tables, session factory and executor for ``settings`` (no threads started)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    return Platform(
        settings=settings,
        sessions=make_session_factory(engine),
        executor=executor or get_executor(settings.executor, settings),
    )


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
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if run_scheduler:
            scheduler.start()
        try:
            yield
        finally:
            scheduler.stop()  # runs keep going: the next server adopts them
            platform.executor.close()

    app = FastAPI(
        title="miniflow platform",
        version=__version__,
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        description="Training jobs, notebooks, model services and batch "
        "prediction jobs behind one API. Every endpoint but "
        "/healthz needs `Authorization: Bearer <token>`.",
    )
    app.state.platform = platform
    app.state.scheduler = scheduler

    @app.exception_handler(PlatformError)
    async def _platform_error(_request: Request, exc: PlatformError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: no token needed."""
        return {"status": "ok"}

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_user: CurrentUser) -> JSONResponse:
        return JSONResponse(app.openapi())

    for router in (users_router, jobs_router, predictions_router, notebooks_router, serving_router):
        app.include_router(router)
    return app
