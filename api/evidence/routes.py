"""HTTP doors of the evidence context."""

from __future__ import annotations

from typing import Any

from api.evidence.agreement_routes import AgreementController
from api.evidence.item_routes import EvidenceItemController
from api.evidence.legal_routes import LegalExportController
from api.evidence.upload_routes import UploadController, create_upload, discover_uploads

# discover_uploads comes before create_upload: see its docstring.
ROUTES: list[Any] = [
    discover_uploads,
    create_upload,
    UploadController,
    EvidenceItemController,
    AgreementController,
    LegalExportController,
]
