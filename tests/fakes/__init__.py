"""Fakes of outside services that tests talk to over real sockets (nothing of ours is
mocked): ``paypal_server.FakePayPal``."""
