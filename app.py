"""CDK entry point (cdk.json runs it): `npx cdk synth` / `npx cdk deploy`. No AWS calls at synth."""

from __future__ import annotations

from infra.application import build_app

if __name__ == "__main__":
    app, _ = build_app()
    app.synth()
