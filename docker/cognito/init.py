"""One-shot init for the local Cognito emulator (moto).

Creates the user pool, an app client (USER_PASSWORD_AUTH, no secret) and a
demo user with a permanent password. Idempotent: re-running against the same
moto process reuses what exists.

moto runs with MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY=HASH and
MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY=HASH, so the ids depend only on
the region and on the exact requests below. compose.yaml hard-codes those ids
in the gateway's COGNITO_* variables; EXPECTED_USER_POOL_ID and
EXPECTED_CLIENT_ID make this script fail loudly if they ever drift (e.g. after
a moto upgrade or an edit to the requests here), instead of the gateway
rejecting every token later.

Runs inside the moto image itself, which ships python3 and boto3. `cargo xtask up`
runs it too, with the venv's python against its own moto; COGNITO_ENV_FILE then
names a file where the ids are written as KEY=VALUE lines.
"""

import json
import os
import sys
import urllib.request

import boto3

ENDPOINT = os.environ.get("COGNITO_ENDPOINT_URL", "http://moto:5000")
REGION = os.environ.get("AWS_REGION", "us-east-1")
POOL_NAME = os.environ.get("COGNITO_POOL_NAME", "orders-local")
CLIENT_NAME = os.environ.get("COGNITO_CLIENT_NAME", "orders-local-web")
DEMO_USERNAME = os.environ.get("DEMO_USERNAME", "demo@example.com")
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "Demo-Password-1")
EXPECTED_POOL_ID = os.environ.get("EXPECTED_USER_POOL_ID", "")
EXPECTED_CLIENT_ID = os.environ.get("EXPECTED_CLIENT_ID", "")
# The demo user's sub a restarted moto must give again (the soak restarts it).
EXPECTED_SUB = os.environ.get("EXPECTED_DEMO_SUB", "")
MOTO_SEED = int(os.environ.get("MOTO_SEED", "20240501"))
# What the gateway is configured with; checked end to end below.
GATEWAY_ISSUER = os.environ.get("COGNITO_ISSUER", "")
GATEWAY_JWKS_URL = os.environ.get("COGNITO_JWKS_URL", "")
ENV_FILE = os.environ.get("COGNITO_ENV_FILE", "")

# The request bodies feed moto's HASH id strategy: changing any of them
# changes the ids, which then no longer match compose.yaml.
POOL_REQUEST = {
    "PoolName": POOL_NAME,
    "UsernameAttributes": ["email"],
    "AutoVerifiedAttributes": ["email"],
    "Policies": {
        "PasswordPolicy": {
            "MinimumLength": 8,
            "RequireUppercase": True,
            "RequireLowercase": True,
            "RequireNumbers": True,
            "RequireSymbols": False,
        }
    },
}
CLIENT_REQUEST = {
    "ClientName": CLIENT_NAME,
    "GenerateSecret": False,
    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
}


def find_pool(idp):
    pages = idp.get_paginator("list_user_pools").paginate(MaxResults=60)
    for page in pages:
        for pool in page["UserPools"]:
            if pool["Name"] == POOL_NAME:
                return pool["Id"]
    return None


def find_client(idp, pool_id):
    pages = idp.get_paginator("list_user_pool_clients").paginate(
        UserPoolId=pool_id, MaxResults=60
    )
    for page in pages:
        for client in page["UserPoolClients"]:
            if client["ClientName"] == CLIENT_NAME:
                return client["ClientId"]
    return None


def seed_moto_random():
    """Seed moto's random generator so the demo user's `sub` (the customer id
    the API sees) is the same every time the stack is created, and orders in
    a kept database still belong to the demo user after moto restarts."""
    req = urllib.request.Request(f"{ENDPOINT}/moto-api/seed?a={MOTO_SEED}", method="POST")
    urllib.request.urlopen(req, timeout=10).close()


def ensure_user(idp, pool_id):
    """The demo user, created if missing; returns its sub.

    With EXPECTED_DEMO_SUB set, a user with another sub is deleted and
    created again: a request another client sends between the seed and the
    create (sign-ins that arrive while moto restarts under load) draws from
    the seeded generator first and shifts the sub."""
    for _ in range(20):
        try:
            user = idp.admin_get_user(UserPoolId=pool_id, Username=DEMO_USERNAME)
        except idp.exceptions.UserNotFoundException:
            seed_moto_random()
            user = idp.admin_create_user(
                UserPoolId=pool_id,
                Username=DEMO_USERNAME,
                UserAttributes=[
                    {"Name": "email", "Value": DEMO_USERNAME},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",
            )["User"]
        sub = user_sub(user)
        if not EXPECTED_SUB or sub == EXPECTED_SUB:
            break
        idp.admin_delete_user(UserPoolId=pool_id, Username=DEMO_USERNAME)
    else:
        sys.exit(f"cognito-init: the demo user's sub stays {sub}, not {EXPECTED_SUB}")
    idp.admin_set_user_password(
        UserPoolId=pool_id,
        Username=DEMO_USERNAME,
        Password=DEMO_PASSWORD,
        Permanent=True,
    )
    return sub


def user_sub(user):
    attributes = user.get("UserAttributes") or user.get("Attributes") or []
    return next(a["Value"] for a in attributes if a["Name"] == "sub")


def verify_like_the_gateway(tokens, client_id):
    """Verify the demo user's ID token the way the gateway will: a plain GET of
    COGNITO_JWKS_URL, RS256 signature, issuer, client id (aud) and token_use.
    The gateway, like API Gateway's Cognito authorizer without OAuth scopes,
    accepts ID tokens only; the access token is checked to be one (token_use
    "access"), since that is what the gateway refuses."""
    if not GATEWAY_JWKS_URL:
        return
    with urllib.request.urlopen(GATEWAY_JWKS_URL, timeout=10) as resp:
        jwks = json.load(resp)
    try:
        from joserfc import jwt
        from joserfc.jwk import KeySet
    except ImportError:
        print("cognito-init: joserfc missing, JWKS fetched but signatures not checked")
        return
    keys = KeySet.import_key_set(jwks)
    id_claims = jwt.decode(tokens["IdToken"], keys, algorithms=["RS256"]).claims
    access_claims = jwt.decode(tokens["AccessToken"], keys, algorithms=["RS256"]).claims
    check("id token iss", id_claims["iss"], GATEWAY_ISSUER)
    check("id token aud", id_claims["aud"], client_id)
    check("id token token_use", id_claims["token_use"], "id")
    check("access token token_use", access_claims["token_use"], "access")
    print(f"cognito-init: tokens verify against {GATEWAY_JWKS_URL}")


def check(name, actual, expected):
    if expected and actual != expected:
        sys.exit(
            f"cognito-init: {name} is {actual!r} but compose.yaml expects "
            f"{expected!r}; update x-cognito in compose.yaml"
        )


def main():
    idp = boto3.client("cognito-idp", endpoint_url=ENDPOINT, region_name=REGION)
    pool_id = find_pool(idp) or idp.create_user_pool(**POOL_REQUEST)["UserPool"]["Id"]
    client_id = find_client(idp, pool_id) or idp.create_user_pool_client(
        UserPoolId=pool_id, **CLIENT_REQUEST
    )["UserPoolClient"]["ClientId"]
    sub = ensure_user(idp, pool_id)

    # Prove the whole flow works before declaring success.
    auth = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": DEMO_USERNAME, "PASSWORD": DEMO_PASSWORD},
    )
    if "AuthenticationResult" not in auth:
        sys.exit(f"cognito-init: demo user login returned a challenge: {auth}")

    print(
        f"cognito-init: user pool {pool_id}, app client {client_id}, "
        f"demo user {DEMO_USERNAME} (sub {sub})",
        flush=True,
    )

    check("user pool id", pool_id, EXPECTED_POOL_ID)
    check("app client id", client_id, EXPECTED_CLIENT_ID)
    verify_like_the_gateway(auth["AuthenticationResult"], client_id)
    if ENV_FILE:
        with open(ENV_FILE, "w", encoding="utf-8") as out:
            out.write(f"COGNITO_USER_POOL_ID={pool_id}\nCOGNITO_CLIENT_ID={client_id}\nDEMO_SUB={sub}\n")


if __name__ == "__main__":
    main()
