"""Real-time push over WebSockets: the protocol, subscriptions and the fan-out of quotes, candles and the inbox.

The same handlers serve API Gateway's WebSocket API in the cloud and the local gateway's ``/ws``; frames reach a
client through the API Gateway Management API (``post_to_connection``), which the local gateway also serves.
"""
