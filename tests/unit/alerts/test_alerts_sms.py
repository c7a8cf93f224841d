"""SMS as India's DLT rules want it, only to a verified number, within the plan's monthly allowance; push retries
resend only to the devices that did not get the alert."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from core_fakes import InMemoryNotifications, InMemoryUsers, make_plan
from mantra.alerts.dispatch import AlertDispatcher, AlertTriggered, ChannelsFailed
from mantra.alerts.phone import PhoneChallenge, PhoneVerification, keep_verification
from mantra.alerts.sms import DltNotConfigured, DltRegistration, SmsAllowance, SmsKind, sms_attributes
from mantra.clock import IST
from mantra.domain import Channel, Plan, Preferences, Role, User
from mantra.errors import Invalid, LimitExceeded, RateLimited

DLT = DltRegistration(
    entity_id="1101000000000000001",
    alert_template_id="1107000000000000001",
    code_template_id="1107000000000000002",
    sender_id="TRDMTR",
)
NOON_IST = 1_795_425_000_000  # 2026-11-23 12:00 IST
PHONE = "+919876543210"


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def now_ms(self) -> int:
        return self.ms


class Sns:
    """Records what SNS was asked to send; devices listed in ``down`` fail."""

    def __init__(self, down: tuple[str, ...] = (), sms_down: bool = False) -> None:
        self.sms: list[tuple[str, str, SmsKind]] = []
        self.push: list[str] = []
        self.down, self.sms_down = set(down), sms_down

    def send_sms(self, phone_e164: str, text: str, kind: SmsKind = SmsKind.ALERT) -> str:
        if self.sms_down:
            raise RuntimeError("SNS throttled")
        self.sms.append((phone_e164, text, kind))
        return f"sms-{len(self.sms)}"

    def send_push(self, endpoint_arn: str, title: str, body: str) -> str:
        if endpoint_arn in self.down:
            raise RuntimeError("EndpointDisabled")
        self.push.append(endpoint_arn)
        return f"push-{endpoint_arn[-2:]}"


class Counter:
    """Same contract as DynamoQuotaCounter."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def take(self, counter: str, limit: int, expires_at_s: int) -> bool:
        if self.counts.get(counter, 0) >= limit:
            return False
        self.counts[counter] = self.counts.get(counter, 0) + 1
        return True

    def give_back(self, counter: str) -> None:
        self.counts[counter] -= 1


class Plans:
    def __init__(self, *plans: Plan) -> None:
        self.items = {p.plan_id: p for p in plans}

    def get(self, plan_id: str) -> Plan | None:
        return self.items.get(plan_id)

    def all(self) -> list[Plan]:
        return list(self.items.values())


def trader(sms_per_month: int) -> Plan:
    plan = make_plan("trader")
    return plan.model_copy(
        update={"name": "Trader", "limits": {**plan.limits, "sms_per_month": sms_per_month}}
    )


USER = User(
    user_id="u", email="u@x.in", name="U", tenant_id="t", roles=frozenset({Role.TRADER}), plan_id="trader"
)


def world(
    prefs: Preferences, sns: Sns, clock: Clock, sms_per_month: int = 10, counter: Counter | None = None
):  # type: ignore[no-untyped-def]
    users, notes = InMemoryUsers(), InMemoryNotifications()
    users.put(USER, "x", 0)
    users.save_preferences("u", prefs)
    allowance = SmsAllowance(counter or Counter(), Plans(trader(sms_per_month)), clock)
    return AlertDispatcher(notes, users, Email(), clock, sns, None, allowance), notes, users


class Email:
    def send(
        self, to: str, subject: str, text: str, headers: dict[str, str], html: str | None = None
    ) -> None:
        pass


def event(trigger_id: str, *channels: Channel) -> AlertTriggered:
    return AlertTriggered(
        event_id=trigger_id,
        trigger_id=trigger_id,
        tenant_id="t",
        user_id="u",
        alert_id="a",
        symbol="SBIN",
        condition="crosses_above",
        level="812.50",
        price="812.55",
        tick_id="x",
        tick_ts_ms=NOON_IST,
        channels=[Channel.IN_APP, *channels],
    )


VERIFIED = Preferences(sms=True, phone_e164=PHONE, phone_verified_ms=NOON_IST - 86_400_000)


# --- DLT attributes ------------------------------------------------------------------------------------------


def test_an_sms_to_an_indian_number_carries_the_dlt_entity_template_and_sender_id() -> None:
    # When an alert and a verification code are addressed to an Indian number
    alert = sms_attributes(PHONE, SmsKind.ALERT, DLT)
    code = sms_attributes(PHONE, SmsKind.CODE, DLT)
    # Then both are Transactional, from the registered entity and header, each with its own template
    for attrs in (alert, code):
        assert attrs["AWS.SNS.SMS.SMSType"]["StringValue"] == "Transactional"
        assert attrs["AWS.MN.SMS.EntityId"]["StringValue"] == "1101000000000000001"
        assert attrs["AWS.SNS.SMS.SenderID"]["StringValue"] == "TRDMTR"
    assert alert["AWS.MN.SMS.TemplateId"]["StringValue"] == "1107000000000000001"
    assert code["AWS.MN.SMS.TemplateId"]["StringValue"] == "1107000000000000002"


def test_an_sms_abroad_carries_no_indian_registration() -> None:
    attrs = sms_attributes("+447700900123", SmsKind.ALERT, DLT)
    assert set(attrs) == {"AWS.SNS.SMS.SMSType"}


def test_an_sms_to_india_without_the_registration_is_refused_naming_the_missing_settings() -> None:
    with pytest.raises(DltNotConfigured, match="MANTRA_SMS_DLT_CODE_TEMPLATE_ID") as refused:
        sms_attributes(PHONE, SmsKind.CODE, DLT.model_copy(update={"code_template_id": "", "sender_id": ""}))
    assert "MANTRA_SMS_SENDER_ID" in str(refused.value)
    assert "ENTITY" not in str(refused.value)


# --- only to a verified number, within the allowance -----------------------------------------------------------


def test_sms_does_not_go_to_a_number_nobody_verified() -> None:
    # Given a number typed into the preferences but never verified
    sns = Sns()
    dispatcher, notes, _ = world(Preferences(sms=True, phone_e164=PHONE), sns, Clock(NOON_IST))
    # When an SMS alert fires
    report = dispatcher.deliver(event("trg_1", Channel.SMS))
    # Then nothing is sent, and the inbox says why
    assert report.skipped == ["sms"] and sns.sms == []
    assert notes.outcomes["trg_1"]["sms"] == "skipped:phone number not verified (POST /api/me/phone)"


def test_sms_alerts_stop_at_the_plans_monthly_allowance_and_start_again_next_ist_month() -> None:
    # Given a plan with 2 SMS alerts a month, on the last evening of November (IST)
    nov_30_late = int(datetime(2026, 11, 30, 23, 50, tzinfo=IST).timestamp() * 1000)
    clock, sns = Clock(nov_30_late), Sns()
    dispatcher, notes, _ = world(VERIFIED, sns, clock, sms_per_month=2)
    # When three SMS alerts fire that evening
    reports = [dispatcher.deliver(event(f"trg_{i}", Channel.SMS)) for i in range(3)]
    # Then two are sent and the third is skipped, naming the allowance
    assert [r.delivered for r in reports] == [["in_app", "sms"], ["in_app", "sms"], ["in_app"]]
    assert notes.outcomes["trg_2"]["sms"] == "skipped:the Trader plan's 2 SMS alerts for 2026-11 are used"
    # And 15 minutes later, 00:05 IST on 1 December (still 30 November in UTC), the allowance is new
    clock.ms += 15 * 60_000
    assert dispatcher.deliver(event("trg_dec", Channel.SMS)).delivered == ["in_app", "sms"]
    assert len(sns.sms) == 3 and sns.sms[0][2] is SmsKind.ALERT


def test_a_plan_without_sms_sends_none_even_from_an_old_rule() -> None:
    # Given a rule with the SMS channel made on a paid plan, and the tenant now on a plan with no SMS
    sns = Sns()
    dispatcher, notes, _ = world(VERIFIED, sns, Clock(NOON_IST), sms_per_month=0)
    # When it fires, nothing is sent
    assert dispatcher.deliver(event("trg_1", Channel.SMS)).skipped == ["sms"] and sns.sms == []
    assert "0 SMS alerts" in notes.outcomes["trg_1"]["sms"]


def test_an_sms_that_fails_gives_its_place_in_the_allowance_back() -> None:
    # Given an allowance of one SMS and SNS failing the first try
    counter = Counter()
    dispatcher, notes, users = world(VERIFIED, Sns(sms_down=True), Clock(NOON_IST), 1, counter)
    with pytest.raises(ChannelsFailed):
        dispatcher.deliver(event("trg_1", Channel.SMS))
    # When the message is redelivered with SNS working
    working = Sns()
    retry = AlertDispatcher(
        notes,
        users,
        Email(),
        Clock(NOON_IST),
        working,
        None,
        SmsAllowance(counter, Plans(trader(1)), Clock(NOON_IST)),
    )
    # Then the one SMS the plan allows is the one that went out
    assert retry.deliver(event("trg_1", Channel.SMS)).delivered == ["in_app", "sms"]
    assert len(working.sms) == 1 and counter.counts == {"sms#t#2026-11": 1}


# --- push: per device --------------------------------------------------------------------------------------------


def test_a_push_retry_after_one_device_failed_sends_only_to_that_device() -> None:
    # Given three devices, the second one failing
    prefs = Preferences(push=True, push_endpoints=("arn:d1", "arn:d2", "arn:d3"))
    first = Sns(down=("arn:d2",))
    dispatcher, notes, users = world(prefs, first, Clock(NOON_IST))
    with pytest.raises(ChannelsFailed) as failed:
        dispatcher.deliver(event("trg_1", Channel.PUSH))
    # Then the two others got it, and each device's outcome is on record
    assert first.push == ["arn:d1", "arn:d3"] and failed.value.report.failed == ["push"]
    assert notes.outcomes["trg_1"]["push:arn:d2"] == "failed:RuntimeError"
    assert notes.outcomes["trg_1"]["push"] == "failed:1 of 3 devices"
    # When the message is redelivered and the device is back
    second = Sns()
    retry = AlertDispatcher(notes, users, Email(), Clock(NOON_IST), second, None, None)
    report = retry.deliver(event("trg_1", Channel.PUSH))
    # Then only the failed device is sent to, and the channel is delivered with every device's message id
    assert second.push == ["arn:d2"] and report.delivered == ["in_app", "push"]
    assert notes.outcomes["trg_1"]["push"] == "delivered:push-d1,push-d2,push-d3"
    # And a third delivery sends nothing at all
    third = Sns()
    AlertDispatcher(notes, users, Email(), Clock(NOON_IST), third, None, None).deliver(
        event("trg_1", Channel.PUSH)
    )
    assert third.push == []


# --- phone verification ------------------------------------------------------------------------------------------


class Challenges:
    """Same contract as DynamoPhoneChallenges."""

    def __init__(self) -> None:
        self.items: dict[str, PhoneChallenge] = {}

    def get(self, user_id: str) -> PhoneChallenge | None:
        return self.items.get(user_id)

    def put(self, challenge: PhoneChallenge, previous_sent_ms: int | None) -> bool:
        current = self.items.get(challenge.user_id)
        if (current.sent_ms if current else None) != previous_sent_ms:
            return False
        self.items[challenge.user_id] = challenge
        return True

    def spend_attempt(self, user_id: str, code_hash: str, max_attempts: int) -> bool:
        c = self.items.get(user_id)
        if c is None or c.code_hash != code_hash or c.attempts >= max_attempts:
            return False
        self.items[user_id] = c.model_copy(update={"attempts": c.attempts + 1})
        return True

    def consume(self, user_id: str, code_hash: str) -> bool:
        c = self.items.get(user_id)
        if c is None or c.code_hash != code_hash:
            return False
        del self.items[user_id]
        return True

    def delete(self, user_id: str) -> None:
        self.items.pop(user_id, None)


def verification(clock: Clock, sns: Sns | None = None):  # type: ignore[no-untyped-def]
    users, challenges, sns = InMemoryUsers(), Challenges(), sns or Sns()
    users.put(USER, "x", 0)
    return (
        PhoneVerification(challenges, users, sns, clock, code_ttl_s=600, max_attempts=3),
        users,
        challenges,
        sns,
    )


def sent_code(sns: Sns) -> str:
    return sns.sms[-1][1][:6]


def test_a_code_sent_by_sms_verifies_the_number_once_and_is_stored_only_hashed() -> None:
    clock = Clock(NOON_IST)
    service, users, challenges, sns = verification(clock)
    # When a code is asked for
    started = service.start(USER, PHONE)
    code = sent_code(sns)
    # Then it went to that number as a verification-code SMS, and only its hash is kept
    assert (sns.sms[0][0], sns.sms[0][2]) == (PHONE, SmsKind.CODE) and code.isdigit()
    assert code not in challenges.items["u"].model_dump_json()
    assert started.expires_ms == NOON_IST + 600_000
    # When the right code comes back
    clock.ms += 30_000
    prefs = service.confirm(USER, code)
    # Then the number is saved as verified, and the same code does not work a second time
    assert (prefs.phone_e164, prefs.phone_verified_ms) == (PHONE, NOON_IST + 30_000)
    assert users.preferences("u").phone_verified_ms == NOON_IST + 30_000
    with pytest.raises(Invalid, match="no code is waiting"):
        service.confirm(USER, code)


def test_an_expired_code_does_not_verify() -> None:
    clock = Clock(NOON_IST)
    service, users, _, sns = verification(clock)
    service.start(USER, PHONE)
    clock.ms += 600_000
    with pytest.raises(Invalid, match="expired"):
        service.confirm(USER, sent_code(sns))
    assert users.preferences("u").phone_e164 is None


def test_wrong_codes_use_up_the_attempts_and_then_even_the_right_one_is_refused() -> None:
    clock = Clock(NOON_IST)
    service, users, _, sns = verification(clock)
    service.start(USER, PHONE)
    right = sent_code(sns)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(Invalid, match="2 attempts left"):
        service.confirm(USER, wrong)
    with pytest.raises(Invalid, match="1 attempts left"):
        service.confirm(USER, wrong)
    with pytest.raises(Invalid, match="wrong code"):
        service.confirm(USER, wrong)
    with pytest.raises(LimitExceeded, match="too many wrong codes"):
        service.confirm(USER, right)
    assert users.preferences("u").phone_verified_ms is None


def test_new_codes_are_limited_to_one_a_minute_and_five_a_day() -> None:
    clock = Clock(NOON_IST)
    service, _, _, sns = verification(clock)
    service.start(USER, PHONE)
    with pytest.raises(RateLimited) as soon:
        service.start(USER, PHONE)
    assert soon.value.retry_after_s == 60
    for _ in range(4):
        clock.ms += 61_000
        service.start(USER, PHONE)
    clock.ms += 61_000
    with pytest.raises(RateLimited, match="5 codes"):
        service.start(USER, PHONE)
    assert len(sns.sms) == 5
    clock.ms = NOON_IST + 86_400_000  # a day after the first
    service.start(USER, PHONE)
    assert len(sns.sms) == 6


def test_only_the_latest_code_counts() -> None:
    clock = Clock(NOON_IST)
    service, _, _, sns = verification(clock)
    service.start(USER, PHONE)
    first = sent_code(sns)
    clock.ms += 61_000
    service.start(USER, "+919812345678")
    second = sent_code(sns)
    if first != second:
        with pytest.raises(Invalid):
            service.confirm(USER, first)
    assert service.confirm(USER, second).phone_e164 == "+919812345678"


def test_a_code_that_could_not_be_sent_leaves_nothing_waiting() -> None:
    service, _, challenges, _ = verification(Clock(NOON_IST), Sns(sms_down=True))
    with pytest.raises(RuntimeError):
        service.start(USER, PHONE)
    assert challenges.items == {}


def test_preferences_keep_a_verified_number_and_refuse_a_new_one() -> None:
    # Given a verified number
    current = VERIFIED
    # When the user saves other preferences with it, it stays verified
    kept = keep_verification(
        current, Preferences(sms=True, phone_e164=PHONE, quiet_start="22:00", quiet_end="07:00")
    )
    assert kept.phone_verified_ms == current.phone_verified_ms
    # When they send another number, it is refused, pointing to the verification
    with pytest.raises(Invalid, match=r"^phone_e164: .*POST /api/me/phone"):
        keep_verification(current, Preferences(sms=True, phone_e164="+919812345678"))
    # When they remove it, no number is left, verified or not
    removed = keep_verification(current, Preferences(sms=False))
    assert (removed.phone_e164, removed.phone_verified_ms) == (None, None)
