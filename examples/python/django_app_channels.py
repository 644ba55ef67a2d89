"""The whole stack in Python: sync views under Gunicorn, WebSockets under Gunicorn's uvicorn worker,
one load balancer with HTTPS, PostgreSQL, a Redis-compatible cache that is also the Channels layer, static and media files
on CloudFront, migrations and collectstatic as a deploy step, alarms to a topic.

    cdk synth --app "python examples/python/django_app_channels.py"
"""
import os

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ecs as ecs
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks

from cdk_django import (
    DjangoApp,
    DjangoAppAlarmsOptions,
    DjangoAppCacheOptions,
    DjangoAppStaticSiteOptions,
    DjangoDatabaseOptions,
    DjangoRequirements,
)

MYSITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mysite")

app = cdk.App()
# cdk-nag v3 with three packs: synth fails on any unacknowledged finding.
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app), HIPAASecurityChecks(app))

# README:start channels
stack = cdk.Stack(app, "DjangoAppChannels")
chat = DjangoApp(
    stack,
    "Chat",
    image=ecs.ContainerImage.from_asset(MYSITE),
    requirements=DjangoRequirements(websockets=True, websocket_paths=["/ws/"]),
    allowed_hosts=["chat.example.com"],
    certificate=acm.Certificate.from_certificate_arn(
        stack, "Cert", "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-0000-0000-000000000000"
    ),
    settings_module="config.settings",
    database_options=DjangoDatabaseOptions(serverless_v2_max_capacity=8),  # Aurora Serverless v2 PostgreSQL, 0.5-8 ACUs
    cache_options=DjangoAppCacheOptions(enabled=True),  # also the Channels layer
    static_site=DjangoAppStaticSiteOptions(media=True),  # S3 + CloudFront; collectstatic runs with the migrations
    alarms=DjangoAppAlarmsOptions(create_topic=True),  # subscribe your on-call to chat.alarms.topic
)
# README:end channels

app.synth()
