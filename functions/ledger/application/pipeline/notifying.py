"""Notifications: each alert is published once. The log is claimed before publishing and marked after; a
redelivered alert whose notification was sent is skipped. (A crash between the publish and the mark, a window of
one SNS call, sends it again: subscribers can drop a repeat by its alert_id message attribute.)"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger.application.ports import NotificationLog, Notifier
from ledger.domain.fraud import Alert


@dataclass
class AlertNotifier:
    log: NotificationLog
    notifier: Notifier
    now: Callable[[], str]

    def notify(self, alert: Alert) -> bool:
        """True when a notification was sent now, False when it had been sent before."""
        if not self.log.claim(alert.alert_id, now=self.now()):
            return False
        message_id = self.notifier.publish(alert)
        self.log.mark_sent(alert.alert_id, message_id=message_id, now=self.now())
        return True
