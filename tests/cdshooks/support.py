"""Test EHRs for the CDS Hooks tests: key pairs generated here, signed JWTs, requests.

Nothing is fetched: keys are made with `cryptography`, tokens signed with PyJWT, FHIR
servers and JWK Set URLs are `httpx.MockTransport` stubs.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

BASE_URL = "https://limbguard.test"
ISS = "https://ehr.harbor.test/"
OTHER_ISS = "https://ehr.coastal.test/"
FHIR_SERVER = "https://ehr.harbor.test/fhir/r4"
MRN_SYSTEM = "urn:oid:2.16.840.1.113883.19.5.99999.1"
EHR_ORIGIN = "https://ehr.harbor.test"
CPT = "http://www.ama-assn.org/go/cpt"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
LIMBGUARD = "http://limbguard.org/fhir/CodeSystem/limbguard"


@dataclass(frozen=True)
class Key:
    kid: str
    alg: str
    private: PrivateKeyTypes

    def public_jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if self.alg.startswith("ES"):
            data = json.loads(ECAlgorithm.to_jwk(public))  # type: ignore[arg-type]
        else:
            data = json.loads(RSAAlgorithm.to_jwk(public))  # type: ignore[arg-type]
        return {**data, "kid": self.kid, "use": "sig", "alg": self.alg}

    def private_jwk(self) -> dict[str, Any]:
        if self.alg.startswith("ES"):
            data = json.loads(ECAlgorithm.to_jwk(self.private))  # type: ignore[arg-type]
        else:
            data = json.loads(RSAAlgorithm.to_jwk(self.private))  # type: ignore[arg-type]
        return {**data, "kid": self.kid}


@cache
def rsa_key(kid: str = "rsa-1", alg: str = "RS384", bits: int = 2048) -> Key:
    return Key(kid, alg, rsa.generate_private_key(public_exponent=65537, key_size=bits))


@cache
def ec_key(kid: str = "ec-1", alg: str = "ES384") -> Key:
    curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}[alg]
    return Key(kid, alg, ec.generate_private_key(curve))


def service_url(service_id: str = "") -> str:
    return f"{BASE_URL}/cds-services" + (f"/{service_id}" if service_id else "")


def sign(
    key: Key,
    *,
    aud: Any,
    iss: str = ISS,
    lifetime: int = 300,
    headers: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    **claims: Any,
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": iss,
        "aud": aud,
        "iat": now,
        "exp": now + lifetime,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    for name in drop:
        payload.pop(name, None)
    header = {"kid": key.kid, "typ": "JWT", **(headers or {})}
    return jwt.encode(payload, key.private, algorithm=key.alg, headers=header)  # type: ignore[arg-type]


@dataclass
class ClientSpec:
    name: str = "harbor-ehr"
    iss: str = ISS
    keys: list[Key] = field(default_factory=lambda: [ec_key(), rsa_key()])
    extra: dict[str, Any] = field(default_factory=dict)

    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "iss": self.iss,
            "jwks": {"keys": [k.public_jwk() for k in self.keys]},
            "centers": ["harbor"],
            "patient_identifier_systems": [MRN_SYSTEM],
            "fhir_servers": [FHIR_SERVER],
            "cors_origins": [EHR_ORIGIN],
            **self.extra,
        }


def write_clients(path: Path, *specs: ClientSpec) -> Path:
    path.write_text(json.dumps({"clients": [s.config() for s in specs]}))
    return path


# --- request bodies --------------------------------------------------------------------


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    return {"system": system, "code": code, **({"display": display} if display else {})}


def amputation_order(
    order_id: str = "amp-1",
    patient_id: str = "p-1",
    code: tuple[str, str] = (CPT, "27880"),
    side_code: str | None = "7771000",
    status: str = "draft",
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": order_id,
        "status": status,
        "intent": "order",
        "code": {"coding": [coding(*code)]},
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    if side_code:
        resource["bodySite"] = [{"coding": [coding(SNOMED, side_code)]}]
    return resource


def bundle(*resources: dict[str, Any], next_url: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }
    if next_url:
        data["link"] = [{"relation": "next", "url": next_url}]
    return data


def patient_resource(patient_id: str = "p-1", mrn: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient", "id": patient_id, "gender": "female"}
    if mrn:
        resource["identifier"] = [{"system": MRN_SYSTEM, "value": mrn}]
    return resource


def procedure(
    cpt: str, on: str, patient_id: str = "p-1", status: str = "completed"
) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": f"proc-{cpt}-{on}",
        "status": status,
        "code": {"coding": [coding(CPT, cpt)]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "performedDateTime": on,
    }


def observation(
    system: str, code: str, on: str, patient_id: str = "p-1", **value: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"obs-{code}-{on}",
        "status": "final",
        "code": {"coding": [coding(system, code)]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": on,
        **value,
    }


def order_sign_request(
    *orders: dict[str, Any],
    patient_id: str = "p-1",
    prefetch: dict[str, Any] | None = None,
    fhir: bool = False,
    hook: str = "order-sign",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/example",
            "patientId": patient_id,
            "encounterId": "89284",
            "draftOrders": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [
                    {"resource": o} for o in (orders or (amputation_order(patient_id=patient_id),))
                ],
            },
        },
    }
    if hook == "order-select":
        body["context"]["selections"] = [
            f"{o['resourceType']}/{o['id']}"
            for o in (orders or (amputation_order(patient_id=patient_id),))
        ]
    if prefetch is not None:
        body["prefetch"] = prefetch
    if fhir:
        body["fhirServer"] = FHIR_SERVER
        body["fhirAuthorization"] = {
            "access_token": "secret-fhir-access-token-0123456789",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/Patient.read user/Observation.read user/Procedure.read",
            "subject": "limbguard-cds",
        }
    return body


def full_prefetch(
    patient_id: str = "p-1",
    mrn: str | None = None,
    procedures: tuple[dict[str, Any], ...] = (),
    observations: tuple[dict[str, Any], ...] = (),
    consults: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    return {
        "patient": patient_resource(patient_id, mrn),
        "procedures": bundle(*procedures),
        "observations": bundle(*observations),
        "consults": bundle(*consults),
    }
