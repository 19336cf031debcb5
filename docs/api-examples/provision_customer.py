"""Provision a whole customer from nothing through the REST API (docs/api.md), as a
provider's or reseller's automation would:

1. the customer account below yours, with its SIP domain and first admin;
2. phone numbers: imported into the platform pool (a master key) and handed down the
   tree to the customer, one step at a time;
3. 50 users from a CSV (users.csv beside this file): extensions with voicemail boxes and
   a desk phone each, as ONE import job, polled until it ends;
4. a second phone (a mobile app) for the front-desk users, whose SIP secrets are shown
   once;
5. a shared after-hours voicemail box;
6. the main number -> a schedule (weekdays 9-17) -> an auto attendant -> a ring group
   of the front desk; closed hours -> the shared voicemail box;
7. prints what it made.

    SWITCHBOARD_URL=http://localhost:8000 SWITCHBOARD_KEY=sb_… \\
        python docs/api-examples/provision_customer.py [--name "Example Dental"]

The key is an admin's of the master or of a reseller (admin -> API keys). With a
reseller's key the numbers must already be held by the reseller: pass them with
--numbers. Needs only httpx (pip install httpx). Every POST carries an
Idempotency-Key, so a request retried after a timeout never makes a second object.
"""

from __future__ import annotations

import argparse
import itertools
import os
import secrets
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
JOB_TIMEOUT = 300.0
FRONT_DESK = 3  # the first users ring in the front-desk group and get a mobile app


class ApiError(RuntimeError):
    pass


class Api:
    """JSON over httpx with the key; raises ApiError with the API's own answer."""

    def __init__(self, url: str, key: str) -> None:
        self.http = httpx.Client(base_url=url.rstrip("/") + "/api/v1/", timeout=60.0,
                                 headers={"Authorization": f"Bearer {key}"})

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        if method == "POST":
            kwargs.setdefault("headers", {})["Idempotency-Key"] = str(uuid.uuid4())
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ApiError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params)

    def post(self, path: str, data: Any = None) -> Any:
        return self.call("POST", path, json=data)

    def put(self, path: str, data: Any) -> Any:
        return self.call("PUT", path, json=data)

    def patch(self, path: str, data: Any) -> Any:
        return self.call("PATCH", path, json=data)


def chain_down(api: Api, account: dict[str, Any]) -> list[int]:
    """Account ids from the root of the key's reach down to ``account``."""
    chain = [account["id"]]
    while account.get("parent"):
        try:
            account = api.get(f"accounts/{account['parent']}/")
        except ApiError:
            break  # above the key's reach
        chain.insert(0, account["id"])
    return chain


def wait_for_job(api: Api, job: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_TIMEOUT
    while job["state"] not in ("succeeded", "failed"):
        if time.monotonic() > deadline:
            raise ApiError(f"job {job['id']} did not finish in {JOB_TIMEOUT:.0f} s: {job}")
        time.sleep(0.5)
        job = api.get(f"jobs/{job['id']}/")
        print(f"  import job {job['id']}: {job['state']}, {job['done']}/{job['total']} rows")
    return job


def provision(api: Api, *, name: str, numbers: list[str] | None, users_csv: Path) -> dict[str, Any]:
    suffix = secrets.token_hex(3)
    slug = f"{name.lower().replace(' ', '-')}-{suffix}"
    root = api.get("accounts/", ordering="path", page_size=1)["results"][0]
    made: dict[str, Any] = {}

    # 1. The customer, its domain and first admin.
    admin_password = secrets.token_urlsafe(12)
    customer = api.post(f"accounts/{root['id']}/children/", {
        "name": f"{name} {suffix}", "domain": f"{slug}.example.net", "max_extensions": 100,
        "admin_user": {"username": f"{slug}-admin", "password": admin_password},
    })
    acct = f"accounts/{customer['id']}/"
    made["account"] = {"id": customer["id"], "name": customer["name"], "domain": customer["domain"],
                       "admin": f"{slug}-admin", "admin_password": admin_password}

    # 2. Numbers: into the pool (the master only), then down the tree step by step.
    if numbers is None:
        if root["kind"] != "master":
            raise ApiError("With a reseller's key, give the numbers it holds: --numbers +1…")
        numbers = [f"+1416555{secrets.randbelow(10_000):04d}" for _ in range(2)]
        pool = api.post(f"accounts/{root['id']}/phone-numbers/import/", {"numbers": numbers})
        ids = [n["id"] for n in pool]
    else:
        held = api.get(f"accounts/{root['id']}/phone-numbers/", page_size=500)["results"]
        ids = [n["id"] for n in held if n["e164"] in numbers]
    chain = chain_down(api, customer)
    for holder, below in itertools.pairwise(chain):
        for number_id in ids:
            api.post(f"accounts/{holder}/phone-numbers/{number_id}/assign/", {"account": below})
    main_number_id = ids[0]

    # 3. 50 users from the CSV: one import job, all or nothing, polled.
    job = api.call("POST", f"{acct}extensions/import/", content=users_csv.read_bytes(),
                   headers={"Content-Type": "text/csv"})
    job = wait_for_job(api, job)
    if job["state"] != "succeeded":
        raise ApiError(f"the import failed: {job['errors']}")
    extensions = {e["number"]: e for e in api.get(f"{acct}extensions/", page_size=500)["results"]}
    made["extensions"] = len(extensions)
    made["desk_phones"] = sum(len(e["devices"]) for e in extensions.values())

    # 4. A mobile app for the front desk: its SIP secret is in this answer only.
    front = [extensions[number] for number in sorted(extensions)[:FRONT_DESK]]
    made["mobile_apps"] = []
    for extension in front:
        device = api.post(f"{acct}devices/", {"extension": extension["id"], "label": "Mobile app"})
        made["mobile_apps"].append({"username": device["username"], "secret": device["secret"]})

    # 5. A shared box for after hours (its PIN is in this answer only).
    box = api.post(f"{acct}voicemail-boxes/", {"number": "7000", "name": "After hours"})
    made["voicemail_box"] = {"id": box["id"], "number": box["number"], "pin": box["pin"]}

    # 6. Main number -> schedule -> auto attendant -> ring group.
    group = api.post(f"{acct}ring-groups/", {"number": "3000", "name": "Front desk",
                                             "strategy": "simultaneous"})
    api.put(f"{acct}ring-groups/{group['id']}/members/", {"members": [
        {"destination": f"extension:{e['id']}", "ring_seconds": 25, "enabled": True} for e in front]})
    menu = api.post(f"{acct}auto-attendants/", {"name": "Main menu", "number": "6000",
                                                "dial_by_extension": True})
    api.put(f"{acct}auto-attendants/{menu['id']}/options/", {"options": {
        "1": f"ring_group:{group['id']}", "2": f"voicemail:{box['id']}", "9": "directory"}})
    schedule = api.post(f"{acct}schedules/", {
        "name": "Office hours", "timezone": "America/Toronto", "default_action": "closed",
        "open_destination": f"ivr:{menu['id']}", "closed_destination": f"voicemail:{box['id']}"})
    api.post(f"{acct}schedule-events/", {
        "schedule": schedule["id"], "name": "Weekdays", "weekdays": [1, 2, 3, 4, 5],
        "start_time": "09:00:00", "end_time": "17:00:00", "action": "open"})
    main = api.patch(f"{acct}phone-numbers/{main_number_id}/", {
        "route": f"schedule:{schedule['id']}", "caller_id_name": name[:50]})
    made["main_number"] = {"id": main["id"], "e164": main["e164"], "route": main["route"]}
    made["numbers"] = numbers
    made["ring_group"] = {"id": group["id"], "number": group["number"], "members": len(front)}
    made["auto_attendant"] = {"id": menu["id"], "number": menu["number"]}
    made["schedule"] = {"id": schedule["id"], "name": schedule["name"]}
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("SWITCHBOARD_URL", "http://localhost:8000"))
    parser.add_argument("--name", default="Example Dental")
    parser.add_argument("--numbers", nargs="+", help="E.164 numbers the key's account already holds.")
    parser.add_argument("--users", type=Path, default=HERE / "users.csv")
    args = parser.parse_args()
    key = os.environ.get("SWITCHBOARD_KEY")
    if not key:
        print("Set SWITCHBOARD_KEY to an API key (admin -> API keys).", file=sys.stderr)
        return 2
    try:
        made = provision(Api(args.url, key), name=args.name, numbers=args.numbers, users_csv=args.users)
    except (ApiError, httpx.HTTPError) as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    account = made["account"]
    print(f"Customer {account['name']} (account {account['id']}), SIP domain {account['domain']}")
    print(f"  admin login {account['admin']} / {account['admin_password']}")
    print(f"  numbers: {', '.join(made['numbers'])}; main number {made['main_number']['e164']} -> "
          f"{made['main_number']['route']}")
    print(f"  {made['extensions']} extensions with voicemail, {made['desk_phones']} desk phones")
    for app in made["mobile_apps"]:
        print(f"  mobile app {app['username']} / SIP secret {app['secret']}")
    print(f"  schedule {made['schedule']['name']} (id {made['schedule']['id']}) -> auto attendant "
          f"{made['auto_attendant']['number']} -> ring group {made['ring_group']['number']} "
          f"({made['ring_group']['members']} members)")
    box = made["voicemail_box"]
    print(f"  after-hours voicemail box {box['number']} (PIN {box['pin']})")
    print(f"RESULT account={account['id']} schedule={made['schedule']['id']} "
          f"ring_group={made['ring_group']['id']} auto_attendant={made['auto_attendant']['id']} "
          f"main_number={made['main_number']['id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
