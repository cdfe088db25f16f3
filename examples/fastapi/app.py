"""The epidemic API in FastAPI, protected by Tessera access tokens.

    GET  /outbreaks    scope outbreaks:read                -> the caller tenant's outbreaks only
    POST /simulate     role analyst + scope simulate:run   -> SIR model on one of its outbreaks

Configuration (environment): ISSUERS (comma-separated issuer URLs), AUDIENCE.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, Optional

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel, Field

from auth import TesseraAuth, get_current_user_dependency, insufficient_scope, roles_of, scopes_of

ISSUERS = [s.strip() for s in os.environ.get("ISSUERS", "").split(",") if s.strip()]
AUDIENCE = os.environ.get("AUDIENCE", "")

auth = TesseraAuth(ISSUERS, AUDIENCE)
get_current_user = get_current_user_dependency(auth)

OUTBREAKS = [
    {"id": "ob-a-1", "tenantId": "health-a", "disease": "influenza", "region": "North", "population": 250_000, "infected": 120, "r0": 1.4},
    {"id": "ob-a-2", "tenantId": "health-a", "disease": "measles", "region": "Coast", "population": 80_000, "infected": 9, "r0": 12.0},
    {"id": "ob-b-1", "tenantId": "health-b", "disease": "cholera", "region": "Delta", "population": 400_000, "infected": 310, "r0": 2.1},
]


def tenant_of(user: Dict[str, Any]) -> str:
    """The caller's tenant; it must be the tenant its issuer speaks for."""
    tenant = user.get("tenant_id")
    if not isinstance(tenant, str) or not user["iss"].endswith(f"/t/{tenant}"):
        raise insufficient_scope("the token names no tenant of its issuer")
    return tenant


def require_scope(scope: str) -> Callable[..., Dict[str, Any]]:
    def dependency(user: Dict[str, Any] = Depends(get_current_user)) -> Dict[str, Any]:
        if scope not in scopes_of(user):
            raise insufficient_scope(f"the token lacks the scope {scope}", scope)
        return user

    return dependency


def require_role(role: str, scope: Optional[str] = None) -> Callable[..., Dict[str, Any]]:
    def dependency(user: Dict[str, Any] = Depends(get_current_user)) -> Dict[str, Any]:
        if role not in roles_of(user):
            raise insufficient_scope(f"the token lacks the role {role}")
        if scope is not None and scope not in scopes_of(user):
            raise insufficient_scope(f"the token lacks the scope {scope}", scope)
        return user

    return dependency


class SimulationRequest(BaseModel):
    outbreakId: str
    days: int = Field(60, ge=1, le=3650)
    r0: Optional[float] = Field(None, gt=0, le=30)


app = FastAPI(title="Epidemic simulation API")


@app.get("/outbreaks")
def list_outbreaks(user: Dict[str, Any] = Depends(require_scope("outbreaks:read"))) -> Dict[str, Any]:
    tenant = tenant_of(user)
    return {"tenant": tenant, "outbreaks": [o for o in OUTBREAKS if o["tenantId"] == tenant]}


@app.post("/simulate")
def run_simulation(body: SimulationRequest, user: Dict[str, Any] = Depends(require_role("analyst", "simulate:run"))) -> Dict[str, Any]:
    tenant = tenant_of(user)
    outbreak = next((o for o in OUTBREAKS if o["id"] == body.outbreakId and o["tenantId"] == tenant), None)
    if outbreak is None:
        raise HTTPException(404, detail="no such outbreak")
    r0 = body.r0 if body.r0 is not None else outbreak["r0"]
    gamma = 1 / 7
    beta = r0 * gamma
    n = outbreak["population"]
    s, i = n - outbreak["infected"], float(outbreak["infected"])
    peak_day, peak = 0, i
    for day in range(1, body.days + 1):
        new, rec = beta * s * i / n, gamma * i
        s, i = s - new, i + new - rec
        if i > peak:
            peak_day, peak = day, i
    return {
        "requestedBy": user["sub"],
        "outbreakId": outbreak["id"],
        "days": body.days,
        "r0": r0,
        "peakDay": peak_day,
        "peakInfected": round(peak),
        "totalInfected": round(n - s),
    }
