from django.apps import AppConfig


class FsnodesConfig(AppConfig):
    name = "fsnodes"
    verbose_name = "FreeSWITCH nodes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from carriers.signals import gateways_changed
        from fsnodes.receivers import (
            on_callcenter_changed,
            on_gateways_changed,
            on_moh_streams_changed,
            on_sip_credentials_changed,
            on_voicemail_boxes_deleted,
            on_voicemail_messages_changed,
        )
        from pbx.signals import (
            callcenter_changed,
            moh_streams_changed,
            sip_credentials_changed,
            voicemail_boxes_deleted,
            voicemail_messages_changed,
        )

        sip_credentials_changed.connect(
            on_sip_credentials_changed, dispatch_uid="fsnodes.flush_sip_credentials"
        )
        gateways_changed.connect(on_gateways_changed, dispatch_uid="fsnodes.rescan_gateways")
        moh_streams_changed.connect(on_moh_streams_changed, dispatch_uid="fsnodes.moh_streams")
        voicemail_boxes_deleted.connect(on_voicemail_boxes_deleted, dispatch_uid="fsnodes.vm_delete")
        callcenter_changed.connect(on_callcenter_changed, dispatch_uid="fsnodes.callcenter")
        voicemail_messages_changed.connect(on_voicemail_messages_changed,
                                           dispatch_uid="fsnodes.vm_messages")

        from fsnodes.receivers import on_account_changed
        from tenants import actions as account_actions

        if on_account_changed not in account_actions.account_change_listeners:
            account_actions.account_change_listeners.append(on_account_changed)
