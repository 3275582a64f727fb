"""A short journey with a client generated from the served OpenAPI document
(openapi-python-client): sign up, invite, create a source, make an intake
key, send a lead by key, read the client. Run by clientgen.rs as
`python3 journey.py BASE_URL PACKAGE_PARENT_DIR PACKAGE_NAME MAIL_DIR`; prints one
line per step and exits non-zero at the first surprise (I9)."""

import importlib
import sys


def main() -> None:
    base, parent, name, mail_dir = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    sys.path.insert(0, parent)
    pkg = importlib.import_module(name)
    api = lambda mod: importlib.import_module(f"{name}.api.{mod}")  # noqa: E731
    models = importlib.import_module(f"{name}.models")

    def ok(step, resp, status):
        if resp.status_code != status:
            raise SystemExit(f"{step}: expected {status}, got {resp.status_code}: {resp.content[:300]!r}")
        print(f"ok {step} ({resp.status_code})")
        return resp.parsed

    anon = pkg.Client(base_url=base)
    owner_token = sign_up(api, models, ok, anon, mail_dir)
    owner = pkg.AuthenticatedClient(base_url=base, token=owner_token)

    roles = ok("list roles", api("roles.get_api_v1_roles").sync_detailed(client=owner), 200)
    member_role = next(r.id for r in roles.roles if r.name == "Member")
    invited = ok(
        "invite a member",
        api("members.post_api_v1_invitations").sync_detailed(
            client=owner,
            body=models.InviteBody(name="Bea Member", email="bea@example.com", role_id=member_role),
        ),
        201,
    )
    assert isinstance(invited.id, int)

    source = ok(
        "create a source",
        api("routing.post_api_v1_lead_sources").sync_detailed(
            client=owner, body=models.SourceBody(kind="webhook", name="Zapier")
        ),
        201,
    )
    key = ok(
        "create an intake key",
        api("account.post_api_v1_api_keys").sync_detailed(
            client=owner,
            body=models.ApiKeyBody(name="Zapier key", lead_source_ids=[source.id]),
        ),
        201,
    )
    intake = pkg.AuthenticatedClient(base_url=base, token=key.token)
    fields = models.LeadInFields()
    fields["budget"] = "5000"
    lead = ok(
        "send a lead by key",
        api("intake.post_api_v1_leads").sync_detailed(
            client=intake,
            body=models.LeadIn(source_id=source.id, name="Lea Lead", email="lea@example.com", fields=fields),
            idempotency_key="journey-1",
        ),
        201,
    )
    again = ok(
        "send it again (stored once)",
        api("intake.post_api_v1_leads").sync_detailed(
            client=intake,
            body=models.LeadIn(source_id=source.id, name="Lea Lead", email="lea@example.com"),
            idempotency_key="journey-1",
        ),
        200,
    )
    assert again.duplicate and again.client_id == lead.client_id
    # GET /api/v1/clients/{id}/routing is not on this branch: the client
    # itself carries the routing reason.
    client = ok(
        "read the client",
        api("clients.get_api_v1_clients_id").sync_detailed(client=owner, id=lead.client_id),
        200,
    )
    assert client.client.name == "Lea Lead", client.client.name
    missing = ok(
        "a missing client is a problem",
        api("clients.get_api_v1_clients_id").sync_detailed(client=owner, id=999999),
        404,
    )
    assert missing.status == 404 and missing.type_.endswith("/not-found"), missing
    print("journey done")


def sign_up(api, models, ok, anon, mail_dir) -> str:
    """The sign-up step: ask (202, the same answer for any address), then
    follow the link of the confirmation mail (the server under test writes
    mail as .eml files into MAIL_DIR)."""
    import email
    import email.policy
    import glob
    import re
    import time

    ok(
        "sign up",
        api("identity.post_api_v1_signup").sync_detailed(
            client=anon,
            body=models.SignupBody(
                account_name="Journey Inc", name="Jo Owner", email="jo@example.com", password="correct horse battery"
            ),
        ),
        202,
    )
    token = None
    deadline = time.time() + 20
    while token is None and time.time() < deadline:
        for path in glob.glob(f"{mail_dir}/*.eml"):
            with open(path, "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            if msg["To"] and "jo@example.com" in str(msg["To"]):
                found = re.search(r"/signup/confirm\?token=([A-Za-z0-9_-]+)", msg.get_body().get_content())
                if found:
                    token = found.group(1)
        if token is None:
            time.sleep(0.05)
    if token is None:
        raise SystemExit("no sign-up mail")
    session = ok(
        "confirm the sign-up",
        api("identity.post_api_v1_signup_confirm").sync_detailed(
            client=anon, body=models.ConfirmSignupBody(token=token)
        ),
        201,
    )
    return session.token


if __name__ == "__main__":
    main()
