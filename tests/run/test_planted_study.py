"""A planted-corpus study: six places, each with one planted term and one planted dimension.

The corpus is written here, from a seeded generator, for this test only: six
real prefecture-level cities, three articles each. Every article mixes
sentences drawn from a shared pool of generic governance sentences (frame
terms such as 社区 and 基层治理, and a few terms of dimensions no place is
planted with: 党建引领, 社区工作者, 考核, 资金 ...) with sentences drawn from its
place's own pool. Each place's own sentences are about its planted dimension
and all of them use its planted lexicon term, which no other place's text
contains; many also use other terms of that dimension. An article names its
place only in its title and opening sentence, and the gazetteer keeps the name
out of the vocabularies (the test checks that no place name becomes a token).

The whole study runs on this corpus with tests/run/test_end_to_end.py's
quick_params (small K sweep and bootstraps, no notebooks), everything in this
process, no segmentation ablation, and the study's own passes and iterations:
with quick_params' 5 passes the keyword-assisted topics are less converged and
their top terms vary more across seeds, which is what "found" measures. The
test reads the tables and the findings, for every place:

(a) place_terms.csv, method logodds: the planted term has rank 1 in its place
    (untied, and filed under the planted dimension), and a bootstrap stability
    (share of resamples in which its rank is within `emphases.stability_top`)
    of at least 0.8;
(b) profile_shares.csv, variant "all", the frame category left out as the
    findings leave it out: the planted dimension has the highest share of
    sentences in its place;
(c) seeded_place_topics.csv: the planted dimension's topic has its largest
    share in its place; seeded_topic_quality.csv: that dimension is found
    (stable across seeds); and it is specific, here in the strictest
    form: present (lower 95% bound of its share >= themes.presence_floor) in
    its own place and in no other. (topic_roles.csv, the other table with a
    "specific" role, describes the exploratory LDA, whose topics are not tied
    to dimensions; it is not asserted.)
(d) findings.md shows the planted term's concept as the first concept the
    place stresses (findings_concepts.csv and its row of the findings' table),
    and the planted dimension as the place's clear lead (findings_leads.csv
    and its row of the findings' leads table, by the dimension's readable
    name).

`planted_corpus(drop=PLACE)` writes the same corpus with PLACE's planted term
replaced by a neutral word (干部) in its articles: the test must then fail.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from pipeline.common.config import PROJECT_ROOT
from pipeline.common.params import StudyParams
from pipeline.report.publish import lexicon_names
from pipeline.run.runner import run_study
from tests.conftest import copy_project_inputs
from tests.run.test_end_to_end import quick_params

pytestmark = pytest.mark.slow

SEED = 20250101
FRAME = "governance_frame"


@dataclass(frozen=True)
class Plant:
    place: str
    province: str
    doc_prefix: str
    dimension: str
    term: str
    sentences: tuple[str, ...]  # every one holds `term`; {n} is a number drawn per article


# Generic sentences: frame terms and a few terms of dimensions no place is planted with.
GENERIC = (
    "社区是基层治理的基本单元，也是服务群众的最后一公里。",
    "街道党工委每月召开专题会议，研究辖区内群众反映集中的问题。",
    "社区工作者定期走访住户，把收集到的意见分类登记、逐项回复。",
    "各街道把城乡社区治理纳入年度重点工作，明确任务清单和完成时限。",
    "党建引领贯穿社区治理全过程，社区党委发挥统筹协调作用。",
    "今年以来，市里安排专门经费，支持老旧片区改善公共环境。",
    "社区工作者的培训覆盖到每一个街道，重点提升做群众工作的本领。",
    "通过定期考核，街道对各社区工作的实际成效进行评价。",
    "许多居民表示，身边的变化看得见、摸得着。",
    "基层治理的成效，最终要体现在群众的获得感上。",
    "社区办公用房腾挪出来，改作居民活动和学习的地方。",
    "街道与辖区企业签订共建协议，共同解决停车难等老问题。",
    "市委组织部把社区治理成效作为评价街道班子的重要依据。",
    "一些社区试点推行错峰办公，方便上班族下班后办事。",
    "工作中也存在人手不足、任务繁重等问题，需要持续加以解决。",
    "下一步，将继续完善城乡社区治理，推动各项措施落地见效。",
    "社区党组织书记带头联系困难家庭，逐户了解实际需求。",
    "楼道里张贴的联系卡，写明了社区负责同志的姓名和电话。",
    "街道每季度通报各社区重点任务推进情况，督促整改落实。",
    "有居民说，以前办事要跑好几趟，现在基本一次就能办完。",
    "社区治理离不开群众的理解和支持，也离不开扎实细致的日常工作。",
    "针对辖区人口流动大的特点，社区摸清底数、建立台账。",
    "市级部门下沉一批编制和人员，充实街道的工作力量。",
    "各社区结合自身实际，形成了一批可复制、可推广的做法。",
    "社区工作者队伍的年龄结构不断优化，大专以上学历占比明显提高。",
    "街道牵头梳理社区承担的事项，能取消的坚决取消。",
    "市财政逐年增加对社区的资金投入，保障各项工作正常运转。",
    "在推进社区建设的过程中，既注重硬件改善，也注重软环境提升。",
    "每到周末，社区广场上总是热热闹闹。",
    "群众的急难愁盼，就是社区工作的着力点。",
    "这些做法得到了辖区群众的普遍认可。",
    "街道组织社区之间开展经验交流，相互学习、取长补短。",
    "社区治理要坚持问题导向，从群众最关心的事情做起。",
    "通过一系列举措，社区面貌焕然一新。",
    "市里将这项工作列入年度重点项目，按月调度进度。",
    "市区两级联动，形成了上下贯通的工作格局。",
    "不少年轻人也主动加入进来，为社区出谋划策。",
    "基层治理现代化是一项长期任务，需要久久为功。",
)

PLANTS = (
    Plant("南京市", "江苏省", "nanjing", "grid_management", "网格员", (
        "全市{n}个社区划分为若干网格，每个网格配备一名网格员。",
        "网格员每天巡查责任网格，发现问题随手拍照上报。",
        "楼道灯坏了、井盖松了，居民第一时间想到的是网格员。",
        "推行网格化管理以来，网格员上报问题的处置率达到九成以上。",
        "网格员的手机里存着网格内{n}户居民的基本情况。",
        "每名网格员都有一本民情日记，记录走访中听到的意见。",
        "网格长每周召集网格员碰头，梳理需要街道协调的事项。",
        "遇到邻里之间的烦心事，网格员先到现场了解情况，再向网格长报告。",
        "在老旧片区，网格员挨家挨户核对住户信息，做到网格底数清楚。",
        "网格员队伍实行统一招聘、统一管理，网格长从中择优产生。",
        "为了让网格员把更多时间用在走访上，街道精简了各类报表。",
        "网格员的联系电话印在楼门口的公示牌上，居民有事随时可以找。",
        "今年上半年，网格员共走访住户{n}户次，上报问题数百条。",
        "网格划得更细以后，网格员对每家每户的情况更加熟悉。",
        "网格化管理要落到实处，关键在于网格员的责任心。",
        "街道对网格员的工作实行月度讲评，表现突出的给予表扬。",
    )),
    Plant("杭州市", "浙江省", "hangzhou", "digital_governance", "智慧社区", (
        "全市已建成智慧社区{n}个，覆盖大部分城区。",
        "在智慧社区平台上，居民可以在线预约、查询办事进度，实现一网通办。",
        "智慧社区把分散在各部门的数据汇集到一个平台上。",
        "依托大数据分析，智慧社区能够及时发现独自居住住户的异常情况。",
        "智慧社区让居民少跑腿，很多事项实现一网通办。",
        "街道把智慧社区作为数字化改革的重要抓手。",
        "智慧社区的门禁、停车和缴费系统已经全部联通，信息化水平明显提高。",
        "不会用手机的居民，可以到智慧社区的服务点请人帮忙，线上线下都能办。",
        "智慧社区运行一年多，平台累计处理居民诉求{n}件。",
        "线上线下结合，智慧社区既方便年轻人，也照顾到不熟悉网络的人。",
        "智慧社区的后台依托大数据每天生成工作提示，提醒社区跟进。",
        "智慧社区特别注意保护居民的个人数据，不该采集的坚决不采集。",
        "智慧社区把停车、充电等难题放到平台上一并解决。",
        "一些街道还为智慧社区配备了专门的运维团队，推进数字化应用。",
        "智慧社区的界面设计简洁，字体可以调大。",
        "市里出台标准，规范智慧社区的建设和运营，推动平台数据互通。",
    )),
    Plant("济南市", "山东省", "jinan", "public_services_elderly_care", "居家养老", (
        "全市已有{n}个社区开展居家养老上门服务，受益老年人逐年增加。",
        "居家养老把助餐、助浴、助医送到老年人家中。",
        "选择居家养老的家庭越来越多，社区的养老服务压力也随之增加。",
        "社区日间照料中心是居家养老的重要依托。",
        "居家养老补贴按月发放到老年人的账户。",
        "一些社区把闲置用房改造成居家养老的服务站点，就近提供助餐。",
        "为居家养老的老年人安装紧急呼叫设备，一键就能联系到社区。",
        "护理人员定期上门，为居家养老的老人测量血压。",
        "居家养老的质量如何，老人和家属说了算。",
        "社区助餐点开到楼下，居家养老的老人吃饭不再发愁。",
        "从事居家养老的护理人员都要经过专门训练才能上岗。",
        "今年全市新增居家养老对象{n}人。",
        "居家养老离不开家人的陪伴，也离不开日间照料中心的照应。",
        "子女在外地工作的老年人，更需要居家养老的帮助。",
        "街道对居家养老机构的养老服务开展年度检查。",
        "居家养老和机构照护相互衔接，老人可以按需选择养老服务。",
    )),
    Plant("武汉市", "湖北省", "wuhan", "social_forces", "志愿服务", (
        "全市注册参与志愿服务的居民已超过{n}人。",
        "志愿服务队每周到社区开展义诊、理发等活动，队里的志愿者多是附近居民。",
        "社会组织承接社区项目，把志愿服务做得更专业。",
        "志愿服务时长可以兑换生活用品，调动了志愿者的积极性。",
        "社区设立志愿服务登记点，居民有需要随时可以登记。",
        "大学生利用假期参与志愿服务，为社区注入活力。",
        "不少志愿服务项目通过公益创投得到了支持。",
        "社会工作者带领志愿服务团队，为困难家庭提供帮扶。",
        "志愿服务不只是帮忙干活，更拉近了邻里之间的距离。",
        "一些企业员工也组队参与社区的志愿服务，成为一支新的社会力量。",
        "志愿服务记录纳入个人信用档案，受到志愿者欢迎。",
        "每逢节假日，志愿服务队的红马甲成了社区里的一道风景。",
        "今年以来，全市社会组织开展各类志愿服务活动{n}场次。",
        "社会组织为志愿服务骨干提供辅导，帮助志愿者掌握基本技能。",
        "志愿服务逐步从临时动员走向常态开展，社会工作者的作用越来越大。",
        "退休教师在社区开设课堂，用志愿服务的方式发挥余热。",
    )),
    Plant("长沙市", "湖南省", "changsha", "rule_of_law", "人民调解", (
        "全市{n}个社区都设立了人民调解工作室，配备专职调解员。",
        "人民调解把矛盾纠纷解决在萌芽状态。",
        "调解员大多是熟悉情况的老党员和老干部，人民调解更接地气。",
        "邻里之间的矛盾纠纷，经过人民调解往往当场就能解决。",
        "人民调解坚持自愿平等、依法调解，不收取任何费用。",
        "社区把法治宣传和人民调解结合起来，引导居民理性表达诉求。",
        "人民调解达成的协议，当事人一般都能自觉履行。",
        "今年以来，通过人民调解解决各类矛盾纠纷{n}件。",
        "人民调解工作室就设在社区办公楼一层，进门就能找到调解员。",
        "对于复杂的矛盾纠纷，人民调解与行政调解、司法调解衔接配合。",
        "学习枫桥经验，人民调解的触角延伸到每个楼门。",
        "街道定期为调解员举办法治讲座，提高人民调解的水平。",
        "人民调解讲情也讲理，调解员常常要跑上好几趟。",
        "物业费、停车位等问题，过去容易闹僵，现在先走人民调解。",
        "居民说，有了人民调解，心里的疙瘩解开了，法治观念也增强了。",
        "人民调解的每一起案例都登记归档，依法保护当事人的隐私。",
    )),
    Plant("西安市", "陕西省", "xian", "self_governance_consultation", "议事会", (
        "全市{n}个社区成立了议事会，小事大事都拿到桌面上协商。",
        "议事会成员由居民推选产生，每届任期三年。",
        "加装电梯的方案，经议事会反复协商后才最终确定。",
        "议事会制定了议事规则，明确提出、讨论、表决的程序。",
        "居民自治有了议事会这个平台，居民参与的热情明显提高。",
        "议事会每月开一次例会，遇到急事随时召集。",
        "议事会讨论的结果要在公告栏上公示，方便居民查看。",
        "今年以来，各社区的议事会共协商解决问题{n}项。",
        "通过民主协商，议事会把不同意见统一起来。",
        "议事会吸纳了物业、商户和居民代表，居民自治的基础更加扎实。",
        "年轻居民加入议事会后，讨论的话题更加多样。",
        "议事会的决定由社区负责落实，落实情况再向议事会报告。",
        "有的楼院在楼道里开起议事会，居民围坐在一起民主协商。",
        "居民参与议事会的积极性，源于说了有人听、听了有人办。",
        "议事会按照议事规则办事，让居民从旁观者变成了参与者。",
        "议事会成员定期参加学习，掌握民主协商的方法。",
    )),
)

ARTICLES_PER_PLACE = 3
# Paragraphs of an article: (sentences of the place's own pool, generic sentences); each article
# takes one of these layouts, with 8 to 10 of its place's sentences and 7 to 10 generic ones.
LAYOUTS = (((1, 2), (3, 1), (2, 2), (3, 1), (0, 3)),
           ((2, 1), (2, 2), (3, 1), (1, 2), (0, 3)),
           ((1, 2), (3, 1), (3, 1), (3, 0), (0, 3)),
           ((1, 3), (2, 2), (3, 1), (2, 1), (0, 3)))
OPENINGS = ("近年来，{place}在社区治理中探索出一些新办法。", "走进{place}的街头巷尾，能感受到基层治理的新变化。",
            "记者日前在{place}采访时看到，社区里的新气象随处可见。")
NEUTRAL = "干部"  # what a dropped planted term becomes


def planted_corpus(data: Path, drop: str | None = None) -> None:
    """Write data/raw/*.txt and data/corpus.csv of the planted corpus into `data` (seeded, so always the same).

    With `drop` (a place), that place's planted term is replaced by NEUTRAL in its articles.
    """
    rng = random.Random(SEED)
    raw = data / "raw"
    raw.mkdir(parents=True)
    rows = []
    for plant in PLANTS:
        for a in range(ARTICLES_PER_PLACE):
            layout = rng.choice(LAYOUTS)
            own = rng.sample(plant.sentences, sum(o for o, _ in layout))
            generic = rng.sample(GENERIC, sum(g for _, g in layout))
            paragraphs = []
            for k, (n_own, n_generic) in enumerate(layout):
                picked = [own.pop() for _ in range(n_own)] + [generic.pop() for _ in range(n_generic)]
                rng.shuffle(picked)
                if k == 0:
                    picked.insert(0, OPENINGS[a].format(place=plant.place))
                paragraphs.append("".join(s.format(n=rng.randint(12, 980)) for s in picked))
            text = "\n\n".join([f"{plant.place}社区治理见闻之{'一二三'[a]}", *paragraphs]) + "\n"
            if plant.place == drop:
                text = text.replace(plant.term, NEUTRAL)
            doc_id = f"{plant.doc_prefix}_{a + 1}"
            (raw / f"{doc_id}.txt").write_text(text, encoding="utf-8")
            rows.append({"doc_id": doc_id, "file": f"{doc_id}.txt", "place": plant.place, "level": "city",
                         "province": plant.province, "source": "", "date": "",
                         "notes": "planted test article, written for tests/run/test_planted_study.py"})
    with open(data / "corpus.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def study_params(params: StudyParams) -> StudyParams:
    """quick_params, everything in this process (no dask cluster to start), no ablation sweep, and the
    study's own passes and iterations (the seeded topics' stability across seeds needs converged fits)."""
    return quick_params(params).updated({
        "clean": {"processes": 1}, "segment": {"processes": 1}, "emphases": {"bootstrap_samples": 50},
        "themes": {"ablation": False, "passes": params.themes.passes, "iterations": params.themes.iterations}})


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    from pipeline.common.params import load_params

    root = tmp_path_factory.mktemp("planted")
    paths = copy_project_inputs(root / "project")
    shutil.rmtree(paths.root / "data")
    planted_corpus(paths.root / "data")
    # The background corpus' counts are a method input (the concept emphases' prior), not part of the corpus.
    shutil.copytree(PROJECT_ROOT / "data" / "background", paths.root / "data" / "background")
    params = study_params(load_params(paths.params))
    results = root / "results"
    run_study(paths, params, paths.params, results_dir=results, notebooks_dir=root / "notebooks", use_cache=False)
    tables = {name: pd.read_csv(results / "tables" / f"{name}.csv", keep_default_na=False)
              for name in ("place_terms", "place_concepts", "profile_shares", "seeded_place_topics",
                           "seeded_topic_quality", "findings_concepts", "findings_leads")}
    lines = (results / "corpus" / "units.jsonl").read_text(encoding="utf-8").splitlines()
    units = [json.loads(line) for line in lines]
    return params, tables, units, (results / "findings.md").read_text(encoding="utf-8")


def test_the_planted_study_finds_every_place_s_planted_term_and_dimension(planted_run):
    params, tables, units, findings = planted_run
    places = [p.place for p in PLANTS]

    # The corpus is what it claims: no planted term occurs outside its place, and no place name
    # (full or short form) reaches a vocabulary.
    tokens_by_place: dict[str, list[str]] = {}
    for unit in units:
        tokens_by_place.setdefault(unit["place"], []).extend(unit["tokens"])
    assert sorted(tokens_by_place) == sorted(places)
    for plant in PLANTS:
        for other in places:
            if other != plant.place:
                assert plant.term not in tokens_by_place[other], (plant.term, other)
    names = {n for p in places for n in (p, p[:-1])}
    assert not names & {t for ts in tokens_by_place.values() for t in ts}

    terms = tables["place_terms"]
    logodds = terms[terms["method"] == "logodds"]
    shares = tables["profile_shares"]
    profile = shares[(shares["variant"] == "all") & (shares["category"] != FRAME)]
    seeded = tables["seeded_place_topics"]
    quality = tables["seeded_topic_quality"]
    floor = float(params.themes.presence_floor)
    need = min(params.themes.shared_min_places, len(places))
    names = lexicon_names(PROJECT_ROOT / "lexicon")
    stressed, leads = tables["findings_concepts"], tables["findings_leads"].set_index("place")

    for plant in PLANTS:
        place, term, dim = plant.place, plant.term, plant.dimension
        # (a) the planted term leads the place's log-odds list and stays in its top list under the bootstrap
        mine = logodds[logodds["place"] == place]
        top = mine[mine["rank"] == 1]
        assert list(top["term"]) == [term], (place, mine.head(5)[["rank", "term", "z", "stability"]])
        assert top["tied"].astype(str).iloc[0] == "False", place
        assert top["category"].iloc[0] == dim, (place, top)  # the lexicon files it under the planted dimension
        assert float(top["stability"].iloc[0]) >= 0.8, (place, top)
        # (a') the planted term's concept leads the place's list of concepts, the study's primary list
        concepts = tables["place_concepts"]
        lead = concepts[(concepts["method"] == "logodds") & (concepts["place"] == place) & (concepts["rank"] == 1)]
        assert len(lead) == 1 and term in lead["terms"].iloc[0].split(" ")[0::2], (place, lead)
        assert lead["dimension"].iloc[0] == dim and float(lead["stability"].iloc[0]) >= 0.8, (place, lead)
        # (b) the planted dimension has the place's highest share of sentences (frame aside), strictly
        part = profile[profile["place"] == place].sort_values("share", ascending=False)
        assert part["category"].iloc[0] == dim, (place, part.head(3)[["category", "share"]])
        assert part["share"].iloc[0] > part["share"].iloc[1], (place, part.head(3)[["category", "share"]])
        # (c) the dimension's seeded topic is found, has its largest share in the place, and is specific to it
        row = quality[quality["dimension"] == dim]
        assert len(row) == 1 and str(row["found"].iloc[0]) == "True", (dim, row)
        topic = seeded[seeded["dimension"] == dim]
        assert topic.sort_values("share", ascending=False)["place"].iloc[0] == place, (dim, topic)
        present = set(topic.loc[topic["ci_low"].astype(float) >= floor, "place"])
        assert present == {place} and len(present) < need, (dim, present, topic[["place", "share", "ci_low"]])
        # (d) the findings show the term's concept first for the place, and the dimension as its clear lead
        first = stressed[stressed["place"] == place].iloc[0]
        assert first["concept"] == lead["concept"].iloc[0], (place, stressed[stressed["place"] == place])
        assert f"| {place} | {first['label']} |" in findings, (place, first["label"], findings)
        assert (leads.loc[place, "leads_with"], leads.loc[place, "verdict"]) == (names.dimension(dim), "clear"), \
            (place, leads.loc[place])
        assert f"| {place} | {names.dimension(dim)} |" in findings, (place, dim, findings)
