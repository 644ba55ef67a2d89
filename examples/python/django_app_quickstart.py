"""DjangoApp with its defaults (Gunicorn behind Nginx), in Python: the quickstart of the README.

    cdk synth --app "python examples/python/django_app_quickstart.py"
"""
import os
import sys

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks

from cdk_django import DjangoApp

MYSITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mysite")

app = cdk.App()
# cdk-nag v3 with three packs: synth fails on any unacknowledged finding.
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app), HIPAASecurityChecks(app))

# README:start quickstart
stack = cdk.Stack(app, "MySite")
site = DjangoApp(
    stack,
    "Site",
    image=ecs.ContainerImage.from_asset(MYSITE),  # the app module is found in the project (config.wsgi)
)
print(f"{site.decision.server.name}: {site.decision.reason}", file=sys.stderr)  # GUNICORN: Gunicorn: the simplest ...
# README:end quickstart

app.synth()
