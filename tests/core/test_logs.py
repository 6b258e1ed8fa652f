"""The log never carries secrets, even inside stack traces."""

import logging

from portal.core.logs import SecretMaskingFilter


def test_known_secrets_and_secret_shapes_are_masked(caplog) -> None:
    logger = logging.getLogger("test.masking")
    masking = SecretMaskingFilter(["my-gateway-key-123"])
    caplog.handler.addFilter(masking)
    try:
        raise ValueError("auth failed with key my-gateway-key-123")
    except ValueError:
        logger.exception("calling %s with Bearer abcdefghijklmnop and sk-proj-ABCDEFGH12345678",
                         "postgresql://portal:pw-9876@db/x")
    text = caplog.text
    for secret in ("my-gateway-key-123", "abcdefghijklmnop", "ABCDEFGH12345678", "pw-9876"):
        assert secret not in text
    assert "Bearer ********" in text and "postgresql://portal:********@db/x" in text
    assert "ValueError: auth failed with key ********" in text
