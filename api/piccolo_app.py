"""The ``api`` Piccolo app: people, the job outbox and the collection domain."""

import os

from piccolo.conf.apps import AppConfig

from api.cases.tables import Address, Case, CaseEvent, Visit, VisitEvent, VisitFlag
from api.outcomes.tables import Agreement, Promise, VisitOutcome
from api.people.tables import Device, EnrolmentCode, StaffToken, Team, User
from api.qc.tables import QcReview
from api.queue.tables import Job
from api.webhooks.tables import WebhookDelivery, WebhookSubscription

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="api",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[
        Team,
        User,
        StaffToken,
        Device,
        EnrolmentCode,
        Job,
        Case,
        Address,
        Visit,
        VisitEvent,
        VisitFlag,
        CaseEvent,
        VisitOutcome,
        Promise,
        Agreement,
        QcReview,
        WebhookSubscription,
        WebhookDelivery,
    ],
    migration_dependencies=[],
    commands=[],
)
