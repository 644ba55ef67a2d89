from channels.generic.websocket import AsyncWebsocketConsumer


class EchoConsumer(AsyncWebsocketConsumer):
    """Async, as Channels advises for consumers that do no blocking work: a sync consumer runs every
    message of every connection through one thread."""

    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data="echo:" + (text_data or ""))
