"""The embedded default's model server answers chat and embeddings at one OpenAI-compatible address."""

from __future__ import annotations

import json
import math

import openai
import pytest

from portal.core.embeddings import GatewayEmbeddings
from portal.core.gateway import GatewayClient
from portal.core.model_server import DEFAULT_MODEL_NAME, LOCAL_EMBEDDING_MODEL

pytestmark = pytest.mark.local_model


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_one_address_serves_chat_and_embeddings(local_model_server) -> None:
    base_url, _ = local_model_server
    client = openai.OpenAI(base_url=base_url, api_key="unused")

    assert {model.id for model in client.models.list()} == {DEFAULT_MODEL_NAME, LOCAL_EMBEDDING_MODEL}
    # The openai client asks for base64 unless told otherwise; both encodings must decode to the same vectors.
    texts = ["The cat sleeps on the sofa.", "A kitten naps on the couch.", "Quarterly invoice totals are due."]
    default = client.embeddings.create(model=LOCAL_EMBEDDING_MODEL, input=texts)
    floats = client.embeddings.create(model=LOCAL_EMBEDDING_MODEL, input=texts, encoding_format="float")
    cat, kitten, invoice = (item.embedding for item in default.data)
    assert len(cat) == 384 and default.usage.prompt_tokens > len(texts)
    assert all(math.isclose(x, y, abs_tol=1e-6) for x, y in zip(cat, floats.data[0].embedding))
    assert _cosine(cat, kitten) > _cosine(cat, invoice) + 0.2
    answer = client.chat.completions.create(model=DEFAULT_MODEL_NAME, max_tokens=8,
                                            messages=[{"role": "user", "content": "Say hello."}])
    assert answer.choices[0].message.content


def test_the_portals_gateway_embeddings_use_it(local_model_server) -> None:
    base_url, _ = local_model_server
    embeddings = GatewayEmbeddings(gateway=GatewayClient(base_url=base_url, timeout_s=60), model=LOCAL_EMBEDDING_MODEL)

    measured = embeddings.embed_measured(["first passage", "second passage"])

    assert len(measured.vectors) == 2 and measured.prompt_tokens and measured.prompt_tokens > 2


def test_a_chat_model_asked_for_embeddings_gets_a_message_naming_the_embedding_model(local_model_server) -> None:
    base_url, _ = local_model_server
    client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)

    with pytest.raises(openai.BadRequestError, match=LOCAL_EMBEDDING_MODEL):
        client.embeddings.create(model=DEFAULT_MODEL_NAME, input="hello")


def test_openais_structured_output_is_enforced_on_the_local_model(local_model_server) -> None:
    base_url, _ = local_model_server
    client = openai.OpenAI(base_url=base_url, api_key="unused")
    schema = {"type": "object", "additionalProperties": False, "required": ["vendor", "total", "paid"],
              "properties": {"vendor": {"type": ["string", "null"]}, "total": {"type": ["number", "null"]},
                             "paid": {"type": ["boolean", "null"]}}}

    answer = client.chat.completions.create(
        model=DEFAULT_MODEL_NAME, temperature=0, max_tokens=80,
        response_format={"type": "json_schema", "json_schema": {"name": "invoice", "schema": schema, "strict": True}},
        messages=[{"role": "user", "content": "Invoice 42 from ACME, 99.50 EUR, paid."}])

    data = json.loads(answer.choices[0].message.content)
    assert set(data) == {"vendor", "total", "paid"}
    assert data["paid"] in (True, False, None) and not isinstance(data["total"], str)
