import ipaddress

import pytest

from fusionprime.errors import ValidationError
from tests.factories import SettlementFactory
from webhooks import transport
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.services import deliveries_process_due, webhook_endpoint_create

pytestmark = pytest.mark.django_db

BLOCKED = {
    "loopback v4": "127.0.0.1",
    "loopback v4 other": "127.8.9.10",
    "private 10/8": "10.1.2.3",
    "private 172.16/12": "172.16.5.4",
    "private 192.168/16": "192.168.1.1",
    "cloud metadata (link-local)": "169.254.169.254",
    "CGNAT 100.64/10": "100.64.0.1",
    "multicast v4": "224.0.0.251",
    "reserved 240/4": "240.0.0.1",
    "broadcast": "255.255.255.255",
    "unspecified v4": "0.0.0.0",
    "benchmarking 198.18/15": "198.18.0.1",
    "loopback v6": "::1",
    "unspecified v6": "::",
    "unique local v6": "fd12:3456::1",
    "link-local v6": "fe80::1",
    "multicast v6": "ff02::1",
    "v4-mapped loopback": "::ffff:127.0.0.1",
    "v4-mapped private": "::ffff:10.0.0.1",
    "v4-mapped metadata": "::ffff:169.254.169.254",
    "NAT64 well-known": "64:ff9b::a9fe:a9fe",
    "NAT64 local-use": "64:ff9b:1::a00:1",
    "6to4": "2002:7f00:1::1",
    "documentation v6": "2001:db8::1",
}


@pytest.mark.parametrize("address", BLOCKED.values(), ids=BLOCKED.keys())
def test_every_blocked_address_family_is_refused(address, settings):
    settings.WEBHOOKS_ALLOWLIST = []
    assert transport.ip_blocked_reason(ipaddress.ip_address(address)) is not None
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(ValidationError) as excinfo:
        webhook_endpoint_create(url=f"http://{host}:8080/hook", actor="test", event_types=["*"])
    assert excinfo.value.code == "url_not_allowed"


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert transport.ip_blocked_reason(ipaddress.ip_address(address)) is None


def test_a_name_resolving_to_loopback_is_refused_on_save(settings):
    settings.WEBHOOKS_ALLOWLIST = []
    with pytest.raises(ValidationError, match="127.0.0.1"):
        webhook_endpoint_create(url="http://localhost:9/hook", actor="test", event_types=["*"])


def test_allowlist_accepts_cidrs_and_host_names(settings, monkeypatch):
    settings.WEBHOOKS_ALLOWLIST = ["10.20.0.0/16", "hooks.internal.test"]
    monkeypatch.setattr(transport, "resolve", lambda host, port: ["192.168.7.7"])
    webhook_endpoint_create(url="http://10.20.1.1/hook", actor="test", event_types=["*"])
    webhook_endpoint_create(url="http://hooks.internal.test/hook", actor="test", event_types=["*"])
    with pytest.raises(ValidationError):
        webhook_endpoint_create(url="http://10.21.1.1/hook", actor="test", event_types=["*"])
    with pytest.raises(ValidationError):
        webhook_endpoint_create(url="http://other.internal.test/hook", actor="test", event_types=["*"])


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/hook", "invalid_url"),
        ("https://user:pw@example.com/hook", "invalid_url"),
        ("https:///nohost", "invalid_url"),
        ("https://example.com/hook#frag", "invalid_url"),
        ("https://example.com:99999/hook", "invalid_url"),
    ],
)
def test_malformed_urls_are_refused(url, code):
    with pytest.raises(ValidationError) as excinfo:
        webhook_endpoint_create(url=url, actor="test", event_types=["*"])
    assert excinfo.value.code == code


def test_https_only_when_required(settings):
    settings.WEBHOOKS_REQUIRE_HTTPS = True
    with pytest.raises(ValidationError, match="https"):
        webhook_endpoint_create(url="http://example.com/hook", actor="test", event_types=["*"])
    webhook_endpoint_create(url="https://example.com/hook", actor="test", event_types=["*"])


def test_addresses_are_vetted_again_when_connecting(make_endpoint, receiver, settings):
    # given an endpoint saved while its address was allowed
    make_endpoint()
    SettlementFactory()
    # when the allowlist no longer covers it
    settings.WEBHOOKS_ALLOWLIST = []
    deliveries_process_due(time_budget=5)
    # then nothing was sent and the attempt says why
    assert receiver.received == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.error_class == "ssrf_blocked" and "127.0.0.1" in attempt.error_message
    assert WebhookDelivery.objects.get().status == "pending"


def test_dns_rebinding_cannot_redirect_the_connection(make_endpoint, receiver, settings, monkeypatch):
    # given a name that resolved to a public address when saved, and to loopback at connect time
    settings.WEBHOOKS_ALLOWLIST = []
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    monkeypatch.setattr(transport, "resolve", lambda host, port: next(answers))
    make_endpoint(url=f"http://rebind.example.test:{receiver.port}/hook")
    SettlementFactory()
    deliveries_process_due(time_budget=5)
    assert receiver.received == []
    assert WebhookAttempt.objects.get().error_class == "ssrf_blocked"


def test_one_bad_address_among_several_refuses_the_host(make_endpoint, receiver, monkeypatch):
    monkeypatch.setattr(transport, "resolve", lambda host, port: ["127.0.0.1", "10.0.0.5"])
    with pytest.raises(ValidationError):
        make_endpoint(url=f"http://mixed.example.test:{receiver.port}/hook")


def test_the_vetted_address_is_the_one_connected_to_with_the_host_header_kept(make_endpoint, receiver, monkeypatch):
    # given a name whose (stand-in) DNS answer is the allowlisted loopback receiver
    monkeypatch.setattr(transport, "resolve", lambda host, port: ["127.0.0.1"])
    make_endpoint(url=f"http://hooks.example.test:{receiver.port}/hook")
    SettlementFactory()
    deliveries_process_due(time_budget=5)
    [request] = receiver.received
    assert request.headers["host"] == f"hooks.example.test:{receiver.port}"
    assert WebhookAttempt.objects.get().resolved_ip == "127.0.0.1"


def test_an_unresolvable_name_is_a_dns_error(make_endpoint, receiver):
    make_endpoint(url="http://no-such-host.invalid/hook")
    SettlementFactory()
    deliveries_process_due(time_budget=5)
    assert WebhookAttempt.objects.get().error_class == "dns"
