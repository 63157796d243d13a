"""The deployed sales dashboard: the page on a private bucket behind CloudFront, people signing in with a Cognito user
pool's hosted UI, and a second HTTP API, the dashboard API, that serves the page's reads to signed-in people only.

- Hosting: the page's folder (functions/ledger/dashboard) goes to a private, encrypted, SSL-only bucket that only
  this CloudFront distribution can read (Origin Access Control). CloudFront serves it over HTTPS only, with the
  managed security-headers policy. At each deploy `config.json` is written next to the page (where the API is, how
  to sign in) and CloudFront's cache is invalidated.
- Sign-in: a user pool nobody can sign up to (admins invite people by email, docs/deploy.md), email as username,
  a strong password policy, TOTP MFA required; its hosted UI on a Cognito domain; one public app client (no secret)
  with the authorization code grant (the page adds PKCE), scopes openid and email, CloudFront as callback and logout.
- Data: the dashboard API (infra/dashboard_api.py) serves the page's reads to holders of this pool's tokens for
  this client, from the page's origin only. The IAM-authorized service API (infra/api.py) is untouched: people never
  get AWS credentials.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, cast

from aws_cdk import Acknowledgment, CfnElement, CfnResource, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct, IConstruct

from infra.dashboard_api import DashboardApi
from infra.topology import Topology

PAGE_DIR: Final = Path(__file__).resolve().parent.parent / "functions" / "ledger" / "dashboard"
CONFIG_KEY: Final = "config.json"  # written at deploy next to index.html; the page reads it (Dashboard.config)
SCOPES: Final = (cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL)
# Context key for the hosted UI's domain prefix (`npx cdk deploy -c dashboard_domain_prefix=...`); by default
# `<stack>-<account>-<region>`, unique per account and region as Cognito requires.
DOMAIN_PREFIX_CONTEXT_KEY: Final = "dashboard_domain_prefix"
ACCESS_LOG_EXPIRY: Final = Duration.days(90)  # S3 and CloudFront access logs: as long as the APIs' access logs
DEPLOYMENT_LOG_RETENTION: Final = logs.RetentionDays.ONE_MONTH
# Browsers revalidate on every load (a deploy's page and config show at once); CloudFront keeps them a day, and
# each deploy invalidates its cache.
PAGE_CACHE_CONTROL: Final = (
    s3deploy.CacheControl.max_age(Duration.seconds(0)),
    s3deploy.CacheControl.s_max_age(Duration.days(1)),
)

_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_RESERVED = ("aws", "amazon", "cognito")  # Cognito refuses domain prefixes that contain these


def domain_prefix(scope: Construct) -> str:
    """The hosted UI's domain prefix: the context value if given (checked), else `<stack>-<account>-<region>`."""
    override = scope.node.try_get_context(DOMAIN_PREFIX_CONTEXT_KEY)
    if override:
        prefix = str(override)
        if not _PREFIX.match(prefix) or any(word in prefix for word in _RESERVED):
            raise ValueError(
                f"{DOMAIN_PREFIX_CONTEXT_KEY}={prefix!r}: a Cognito domain prefix is 1-63 lowercase letters, digits "
                f"and inner hyphens, without {', '.join(_RESERVED)}"
            )
        return prefix
    stack = Stack.of(scope)
    name = re.sub(r"[^a-z0-9]+", "-", stack.stack_name.lower())
    for word in _RESERVED:
        name = name.replace(word, "")
    name = re.sub(r"-+", "-", name).strip("-")[:20].strip("-") or "ledger"
    return f"{name}-{stack.account}-{stack.region}"  # account: 12 digits, region: at most 14 characters


class Dashboard(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, topology: Topology, functions: Mapping[str, lambda_.IFunction]
    ) -> None:
        super().__init__(scope, construct_id)
        stack_name = Stack.of(self).stack_name
        self._access_logs = self._access_log_bucket()
        self.bucket = self._page_bucket()
        self.distribution = self._distribution(stack_name)
        self.url = f"https://{self.distribution.distribution_domain_name}/"
        self.origin = f"https://{self.distribution.distribution_domain_name}"

        self.user_pool = self._user_pool(stack_name)
        self.domain = self.user_pool.add_domain(
            "SignInDomain",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=domain_prefix(self)),
            managed_login_version=cognito.ManagedLoginVersion.CLASSIC_HOSTED_UI,
        )
        self.sign_in_url = self.domain.base_url()
        self.client = self.user_pool.add_client(
            "PageClient",
            user_pool_client_name=f"{stack_name}-dashboard-page",
            generate_secret=False,  # a page cannot keep a secret: a public client, with PKCE instead
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=list(SCOPES),
                callback_urls=[self.url],
                logout_urls=[self.url],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            auth_flows=cognito.AuthFlow(user_srp=True),  # SRP and refresh only: no plain-password or custom auth
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12),  # a working day on one sign-in
        )

        self.api = DashboardApi(
            self,
            "Api",
            topology=topology,
            functions=functions,
            user_pool=self.user_pool,
            client=self.client,
            origin=self.origin,
        )
        self.deployment = self._deploy_page()

    def config(self) -> dict[str, Any]:
        """config.json: what the page needs to sign people in and call the dashboard API (its contract)."""
        return {
            "api": self.api.url,
            "auth": {
                "domain": self.sign_in_url,
                "client_id": self.client.user_pool_client_id,
                "redirect_uri": self.url,
                "scopes": [scope.scope_name for scope in SCOPES],
            },
        }

    def _access_log_bucket(self) -> s3.Bucket:
        # The target of the page bucket's server access logs and the distribution's standard logs (which is why
        # AwsSolutions-S1 does not ask it to log itself).
        return s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # SSE-S3: what S3 server access logging supports
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # CloudFront's standard logs are delivered with an ACL grant: ACLs on, the bucket owner owns every object
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=ACCESS_LOG_EXPIRY)],
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _page_bucket(self) -> s3.Bucket:
        return s3.Bucket(
            self,
            "Page",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self._access_logs,
            server_access_logs_prefix="page-bucket/",
            # Only the page, from the repository, which every deploy writes again: nothing to keep.
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _distribution(self, stack_name: str) -> cloudfront.Distribution:
        distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{stack_name} sales dashboard",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(
                    self.bucket, origin_access_levels=[cloudfront.AccessLevel.READ]
                ),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
                compress=True,
            ),
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            log_bucket=self._access_logs,
            log_file_prefix="distribution/",
        )
        _acknowledge(
            distribution,
            "AwsSolutions-CFR4",
            "The distribution has no custom domain, so it serves the *.cloudfront.net certificate, whose security "
            "policy CloudFront fixes; modern browsers negotiate TLS 1.2 or 1.3 with it. A custom domain with an ACM "
            "certificate would allow TLSv1.2_2021 as the minimum.",
        )
        _acknowledge(
            distribution,
            "AwsSolutions-CFR1",
            "No geo restriction: the people invited to the dashboard may work from anywhere, and the page itself "
            "holds no data (every read needs a token of the user pool).",
        )
        _acknowledge(
            distribution,
            "AwsSolutions-CFR2",
            "No WAF web ACL: the distribution serves two small static files with no data, and the data API behind "
            "it refuses every request without a valid token and is throttled; a web ACL costs more than it guards.",
        )
        return distribution

    def _user_pool(self, stack_name: str) -> cognito.UserPool:
        pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{stack_name}-dashboard",
            self_sign_up_enabled=False,  # admins invite people (aws cognito-idp admin-create-user)
            sign_in_aliases=cognito.SignInAliases(email=True),  # email as username
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            # Required, by authenticator app: the hosted UI shows the QR code to set it up at the first sign-in.
            # (Optional MFA would be off in practice: the hosted UI offers no way to opt in.)
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            user_invitation=cognito.UserInvitationConfig(
                email_subject="Your access to the sales dashboard",
                email_body="You can now sign in to the sales dashboard at "
                f"https://{self.distribution.distribution_domain_name}/ with the username {{username}} and the "
                "temporary password {####}. At your first sign-in you choose your own password and set up an "
                "authenticator app; the temporary password expires in 3 days.",
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,  # the people invited: kept like the tables
        )
        _acknowledge(
            pool,
            "AwsSolutions-COG8",
            "The Essentials feature plan, not Plus: threat protection (adaptive authentication, compromised "
            "credentials) is billed per monthly active user, and this pool only holds a few invited people, "
            "created by admins, with no self sign-up to attack.",
        )
        return pool

    def _deploy_page(self) -> s3deploy.BucketDeployment:
        log_group = logs.LogGroup(self, "DeploymentLogs", retention=DEPLOYMENT_LOG_RETENTION)
        role = iam.Role(
            self,
            "DeploymentRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Copies the dashboard page and its config.json to the page bucket, invalidates CloudFront",
        )
        log_group.grant_write(role)
        deployment = s3deploy.BucketDeployment(
            self,
            "Deployment",
            destination_bucket=self.bucket,
            sources=[
                # A config.json in the folder (local experiments) never shadows the deployed one.
                s3deploy.Source.asset(str(PAGE_DIR), exclude=[CONFIG_KEY, "**/__pycache__", "*.py", "*.pyc"]),
                s3deploy.Source.json_data(CONFIG_KEY, self.config()),
            ],
            cache_control=list(PAGE_CACHE_CONTROL),
            distribution=self.distribution,
            distribution_paths=["/*"],
            retain_on_delete=False,  # the deployment owns the bucket: emptying it on delete lets the bucket go too
            role=role,
            log_group=log_group,
            memory_limit=256,
        )
        _acknowledge_deployment_findings(role, self.bucket)
        # BucketDeployment's function is a singleton at the stack's root, shared by every BucketDeployment alike.
        handler = next(
            child for child in Stack.of(self).node.children if child.node.id.startswith("Custom::CDKBucketDeployment")
        )
        function = cast(CfnResource, handler.node.default_child)
        _acknowledge(
            function,
            "AwsSolutions-L1",
            "The function behind BucketDeployment is aws-cdk-lib's own, with the Python runtime aws-cdk-lib chose "
            "for it; it runs only during deploys and moves to a newer runtime when aws-cdk-lib is upgraded.",
        )
        # It depends on its role (and the role's policy, so that it can run); cfn-lint W3005 flags the role half as
        # already implied by Fn::GetAtt, as for the topology's functions (infra/functions.py). Harmless.
        function.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        return deployment


def _acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    Validations.of(construct.node.default_child or construct).acknowledge(Acknowledgment(id=rule, reason=reason))


def _acknowledge_deployment_findings(role: iam.Role, bucket: s3.Bucket) -> None:
    """BucketDeployment grants its role these itself (aws-cdk-lib's grantRead/grantReadWrite and its invalidation
    statement): read of the page's zips in the CDK asset bucket, a sync of the page bucket, CloudFront invalidations."""
    stack = Stack.of(bucket)
    page_bucket = stack.get_logical_id(cast(CfnElement, bucket.node.default_child))
    reasons = {
        "Action::s3:GetBucket*": "BucketDeployment reads the page's zips from the CDK asset bucket and lists and "
        "syncs the page bucket; aws-cdk-lib's read grants, on those two buckets and their objects only.",
        "Action::s3:GetObject*": "BucketDeployment reads the page's zips from the CDK asset bucket and compares the "
        "page bucket's objects while syncing; aws-cdk-lib's read grants, on those two buckets only.",
        "Action::s3:List*": "BucketDeployment lists the page bucket to sync it (and prune what the folder no longer "
        "has) and reads from the CDK asset bucket; aws-cdk-lib's read grants, on those two buckets only.",
        "Action::s3:Abort*": "BucketDeployment uploads the page with the AWS CLI's s3 sync, which aborts its own "
        "multipart uploads on failure; aws-cdk-lib's write grant, on the page bucket's objects only.",
        "Action::s3:DeleteObject*": "BucketDeployment prunes the page bucket: a file removed from the dashboard "
        "folder is deleted at the next deploy; aws-cdk-lib's write grant, on the page bucket's objects only.",
        f"Resource::<{page_bucket}.Arn>/*": "The objects of the page bucket, which this deployment owns entirely "
        "(it writes the page and config.json and prunes the rest); no other bucket's objects.",
        "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*": "The objects "
        "of the CDK bootstrap asset bucket, where `cdk deploy` uploads the page's zips under content-hash names "
        "the role cannot know before the deploy; read only.",
        "Resource::*": "cloudfront:CreateInvalidation and cloudfront:GetInvalidation, which BucketDeployment grants "
        "on '*' itself; the function only invalidates the distribution whose id the deployment passes it, and an "
        "invalidation can only make CloudFront fetch from its origin again.",
    }
    for finding, reason in reasons.items():
        Validations.of(role).acknowledge(Acknowledgment(id=f"AwsSolutions-IAM5[{finding}]", reason=reason))
