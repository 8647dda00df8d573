"""CDS Hooks 2.0.1 wire format as pydantic models: discovery, request, response, feedback.

Source: HL7 CDS Hooks 2.0.1 (STU2 errata, `HL7/cds-hooks` tag v2.0.1,
input/pagecontent/index.md) and the logical models with their invariants
(`HL7/cds-hooks:input/fsh/logicals/*.fsh`, `input/fsh/invariants/*.fsh`); hook contexts
from the CDS Hooks Library (`HL7/cds-hooks-library:input/fsh/logicals/`, invariant ord-1).

Each invariant is one validator named after it:

* request: cds-r-1 (error), cds-r-2 (warning: reported by `CdsRequest.warnings()`);
* response: cds-resp-1 … cds-resp-7 (cds-resp-2 is a warning in the spec; LimbGuard's
  own responses hold it as an error, since it only ever emits what it builds);
* feedback: cds-fb-1, cds-fb-2, cds-fb-3.

Incoming models allow unknown members (extensions, 3.0 additions) so that a newer
client is not refused; outgoing models forbid them. `wire()` serialises the way the
spec asks: optional members without a value are omitted, never `null`, `""`, `[]` or
`{}` (the one exception being `cards: []`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AnyUrl,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)

# FHIR `id`: 1-64 of [A-Za-z0-9-.] (FHIR R4 datatypes, "id").
FhirId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9\-.]{1,64}$")]
# ord-1 (cds-hooks-library invariants/ord-1.fsh): "Must be in the format {type}/{id}".
TypedReference = Annotated[str, StringConstraints(pattern=r"^[\d\w]+/[\d\w\-.]+$")]
SUMMARY_MAX = 139  # "<140-character summary" (2.0.1, Card Attributes)


def _strip_urn_uuid(value: object) -> object:
    """The logical models give uuids the implied prefix `urn:uuid:`; accept both forms."""
    if isinstance(value, str) and value.lower().startswith("urn:uuid:"):
        return value[len("urn:uuid:") :]
    return value


Uuid = Annotated[uuid.UUID, BeforeValidator(_strip_urn_uuid)]


def _absolute_http(value: AnyUrl) -> AnyUrl:
    if value.scheme not in {"http", "https"} or not value.host:
        raise ValueError("must be an absolute http(s) URL")
    return value


HttpUrl = Annotated[AnyUrl, AfterValidator(_absolute_http)]


def _utc_instant(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a time zone (RFC 3339, UTC)")
    return value


Instant = Annotated[dt.datetime, AfterValidator(_utc_instant)]


def _prune(value: Any) -> Any:
    """Drop members without a value: None, "", [], {} (recursively)."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


class _In(BaseModel):
    """An incoming structure: unknown members are kept, never refused."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class _Out(BaseModel):
    """An outgoing structure: only what the spec defines."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        """JSON-ready dict with empty optional members omitted."""
        return dict(_prune(self.model_dump(mode="json", by_alias=True, exclude_none=True)))


# --- shared --------------------------------------------------------------------------


class Coding(_Out):
    """FHIR Coding as CDS Hooks uses it (2.0.1, Data Types)."""

    system: str | None = None
    code: str = Field(min_length=1)
    display: str | None = None


class InCoding(_In):
    system: str | None = None
    code: str | None = None
    display: str | None = None


# --- discovery -----------------------------------------------------------------------


class Service(_Out):
    hook: str
    title: str | None = None
    description: str
    id: str = Field(pattern=r"^[A-Za-z0-9\-_.]+$")
    prefetch: dict[str, str] | None = None
    usageRequirements: str | None = None


class Services(_Out):
    services: list[Service]

    def wire(self) -> dict[str, Any]:
        # `services` is present even when empty (json-empty-behavior: present).
        return {"services": [s.wire() for s in self.services]}


# --- request -------------------------------------------------------------------------


class FhirAuthorization(_In):
    """`fhirAuthorization`. The access token is a SecretStr: it never shows in a repr,
    a log line or an error message."""

    access_token: SecretStr
    token_type: str
    expires_in: int = Field(ge=0)
    scope: str
    subject: str
    patient: FhirId | None = None

    @field_validator("access_token")
    @classmethod
    def _token_present(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("must not be empty")
        return value

    @field_validator("token_type")
    @classmethod
    def _bearer(cls, value: str) -> str:
        # Fixed value "Bearer"; OAuth 2.0 token types compare case-insensitively.
        if value.lower() != "bearer":
            raise ValueError("must be 'Bearer'")
        return "Bearer"

    def cds_r_2_holds(self) -> bool:
        """cds-r-2 (warning): patient scopes imply `patient`."""
        return "patient/" not in self.scope or self.patient is not None


class CdsRequest(_In):
    hook: str = Field(min_length=1, max_length=100)
    hookInstance: Uuid
    fhirServer: HttpUrl | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _cds_r_1(self) -> CdsRequest:
        """cds-r-1: fhirAuthorization.exists() implies fhirServer.exists()."""
        if self.fhirAuthorization is not None and self.fhirServer is None:
            raise ValueError("cds-r-1: fhirServer is required when fhirAuthorization is given")
        return self

    def warnings(self) -> list[str]:
        """Warning-level invariants that do not hold (the request is still served)."""
        found = []
        if self.fhirAuthorization is not None and not self.fhirAuthorization.cds_r_2_holds():
            found.append("cds-r-2")
        return found


class PatientViewContext(_In):
    """patient-view (cds-hooks-library CDSHookPatientViewContext)."""

    userId: TypedReference
    patientId: FhirId
    encounterId: FhirId | None = None


class BundleEntry(_In):
    fullUrl: str | None = None
    resource: dict[str, Any] | None = None


class Bundle(_In):
    """A FHIR Bundle, read leniently: `type` is optional, as in the spec's own examples."""

    resourceType: Literal["Bundle"]
    type: str | None = None
    entry: list[BundleEntry] = Field(default_factory=list)

    def resources(self) -> list[dict[str, Any]]:
        return [e.resource for e in self.entry if isinstance(e.resource, dict)]


class OrderSignContext(PatientViewContext):
    """order-sign: draftOrders is a Bundle of request resources."""

    draftOrders: Bundle


class OrderSelectContext(OrderSignContext):
    """order-select: selections (1..*, each ord-1) point into draftOrders."""

    selections: list[TypedReference] = Field(min_length=1)


# --- response ------------------------------------------------------------------------


class Source(_Out):
    label: str = Field(min_length=1)
    url: HttpUrl | None = None
    icon: HttpUrl | None = None
    topic: Coding | None = None


class Action(_Out):
    type: Literal["create", "update", "delete"]
    description: str | None = None
    resource: dict[str, Any] | None = None
    resourceId: str | None = None

    @model_validator(mode="after")
    def _resource_for_type(self) -> Action:
        if self.type in {"create", "update"} and self.resource is None:
            raise ValueError(f"a {self.type} action SHALL carry the resource")
        # cds-resp-2: (type = 'delete') implies (resourceId.exists() and resource.empty())
        if self.type == "delete" and (self.resourceId is None or self.resource is not None):
            raise ValueError("cds-resp-2: a delete action gives resourceId and no resource")
        return self


class Suggestion(_Out):
    label: str = Field(min_length=1)
    uuid: Uuid | None = None
    isRecommended: bool | None = None
    actions: list[Action] | None = None
    # cds-resp-7: actionSelectionBehavior.empty() or in (all, any, at-most-one).
    actionSelectionBehavior: Literal["all", "any", "at-most-one"] | None = None

    @model_validator(mode="after")
    def _cds_resp_5(self) -> Suggestion:
        """cds-resp-5: actions.all(description.exists())."""
        if any(not action.description for action in self.actions or []):
            raise ValueError("cds-resp-5: every suggestion action needs a description")
        return self


class Link(_Out):
    label: str = Field(min_length=1)
    url: HttpUrl
    type: Literal["absolute", "smart"]
    appContext: str | None = None
    autolaunchable: bool | None = None

    @model_validator(mode="after")
    def _cds_resp_3(self) -> Link:
        """cds-resp-3: (type != 'smart') implies appContext.empty()."""
        if self.type != "smart" and self.appContext is not None:
            raise ValueError("cds-resp-3: appContext is only for smart links")
        return self


class Card(_Out):
    uuid: Uuid | None = None
    summary: str = Field(min_length=1, max_length=SUMMARY_MAX)
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[Coding] | None = None
    links: list[Link] | None = None

    @model_validator(mode="after")
    def _cds_resp_1(self) -> Card:
        """cds-resp-1: at-most-one implies at most one recommended suggestion."""
        if self.selectionBehavior == "at-most-one":
            recommended = [s for s in self.suggestions or [] if s.isRecommended]
            if len(recommended) > 1:
                raise ValueError("cds-resp-1: at-most-one allows one recommended suggestion")
        return self

    @model_validator(mode="after")
    def _cds_resp_4(self) -> Card:
        """cds-resp-4: overrideReasons.all(display.exists())."""
        if any(not reason.display for reason in self.overrideReasons or []):
            raise ValueError("cds-resp-4: every override reason needs a display")
        return self

    @model_validator(mode="after")
    def _cds_resp_6(self) -> Card:
        """cds-resp-6: suggestions.exists() implies selectionBehavior.exists()."""
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError("cds-resp-6: suggestions need a selectionBehavior")
        return self


class CdsResponse(_Out):
    cards: list[Card]
    systemActions: list[Action] | None = None

    def wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"cards": [card.wire() for card in self.cards]}
        if self.systemActions:
            body["systemActions"] = [action.wire() for action in self.systemActions]
        return body


# --- feedback ------------------------------------------------------------------------


class AcceptedSuggestion(_In):
    id: Uuid


class OverrideReason(_In):
    reason: InCoding | None = None
    userComment: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _cds_fb_3(self) -> OverrideReason:
        """cds-fb-3: reason.exists() or userComment.exists()."""
        if self.reason is None and not self.userComment:
            raise ValueError("cds-fb-3: an overrideReason needs a reason, a userComment or both")
        return self


class FeedbackItem(_In):
    card: Uuid
    outcome: str
    acceptedSuggestions: list[AcceptedSuggestion] | None = None
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: Instant

    @field_validator("outcome")
    @classmethod
    def _cds_fb_1(cls, value: str) -> str:
        """cds-fb-1: outcome = 'accepted' or outcome = 'overridden'."""
        if value not in {"accepted", "overridden"}:
            raise ValueError("cds-fb-1: outcome must be 'accepted' or 'overridden'")
        return value

    @model_validator(mode="after")
    def _cds_fb_2(self) -> FeedbackItem:
        """cds-fb-2: (outcome = 'accepted') implies acceptedSuggestions.exists()."""
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("cds-fb-2: an accepted outcome lists acceptedSuggestions")
        return self


class Feedback(_In):
    feedback: list[FeedbackItem] = Field(max_length=100)
