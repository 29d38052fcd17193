"""The committed JSON Schema files and interface document are what the models generate, and
items of every kind validate against them."""

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest

from normalizers import schema as standard
from normalizers.models import (
    Article,
    Category,
    ColumnNode,
    Letter,
    Material,
    Navigation,
    ServiceGuide,
    TimeLimit,
    parse_item,
)

REPO = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2024, 5, 1, 9, 30)


def validator(name: str = "exchange-item.schema.json") -> jsonschema.Draft202012Validator:
    schema = json.loads((REPO / "schema" / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_committed_files_match_the_models():
    stale = standard.drift()
    assert not stale, f"run `blgw schema write`: out of date: {[str(p) for p in stale]}"


def test_interface_document_covers_every_item_type_and_field():
    doc = (REPO / "docs" / "exchange-standard.md").read_text(encoding="utf-8")
    for item_type, model in {"article": Article, "letter": Letter, "service_guide": ServiceGuide,
                             "navigation": Navigation}.items():
        assert f"## `{item_type}`" in doc
        for field in model.model_fields:
            assert f"| `{field}` |" in doc, (item_type, field)


def _items(article_factory):
    base = {"site_code": "rsj", "column_path": ["网上服务", "办事指南"], "fetched_at": NOW}
    guide = ServiceGuide(id="a" * 32, category=Category.ONLINE_SERVICES, source_url="http://rsj.bl.gov.cn/bszn/1.html",
                         name="失业保险金申领", materials=[Material(name="身份证", form="原件", copies=1)],
                         time_limit=TimeLimit(kind="承诺件", legal_days=20, promised_days=5), **base)
    letter = Letter(id="b" * 32, category=Category.INTERACTION, source_url="http://rsj.bl.gov.cn/xx/2.html",
                    title="社保转移咨询", asker="李明", question="电话13900001111", asked_at=NOW, **base)
    nav = Navigation(id="c" * 32, category=Category.GOVERNMENT_INFORMATION, source_url="http://rsj.bl.gov.cn/",
                     site_name="人社局", base_url="http://rsj.bl.gov.cn/",
                     columns=[ColumnNode(name="政务公开", path=["政务公开"], children=[
                         ColumnNode(name="通知公告", url="http://rsj.bl.gov.cn/list.php?catid=1",
                                    path=["政务公开", "通知公告"], document_count=61)])], **base)
    return [article_factory(), guide, letter, nav]


def test_items_of_every_kind_validate_and_round_trip(article_factory):
    check = validator()
    for item in _items(article_factory):
        data = json.loads(item.model_dump_json())
        check.validate(data)
        validator(f"{data['item_type']}.schema.json").validate(data)
        again = parse_item(item.model_dump_json())
        assert again == item and again.content_hash == item.content_hash


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(item_type="leaflet"),
    lambda d: d.update(id="XYZ"),
    lambda d: d.update(category="其他"),
    lambda d: d.update(unknown_field=1),
    lambda d: d.pop("title"),
])
def test_the_schema_rejects_broken_items(article_factory, mutate):
    data = json.loads(article_factory().model_dump_json())
    mutate(data)
    with pytest.raises(jsonschema.ValidationError):
        validator().validate(data)


def test_version_0_items_read_as_articles(article_factory):
    data = json.loads(article_factory().model_dump_json())
    del data["item_type"]
    assert isinstance(parse_item(data), Article)


def test_letters_mask_personal_data_in_the_standard():
    letter = Letter(id="b" * 32, site_code="rsj", column_path=["政民互动", "咨询信箱"], category=Category.INTERACTION,
                    source_url="http://rsj.bl.gov.cn/x", fetched_at=NOW, title="咨询", asker="欧阳娜娜",
                    question="我叫欧阳娜娜，手机 13812345678，身份证 330206199001011234，邮箱 nana@example.com",
                    reply="请拨打 0574-86781234 咨询")
    assert letter.asker == "欧阳**"
    assert "13812345678" not in letter.question and "138****5678" in letter.question
    assert "330206199001011234" not in letter.question and "nana@" not in letter.question
    assert letter.reply == "请拨打 0574-86781234 咨询"  # the office's number is public
