"""Words on charts and in the report, in English and Chinese: the one translation table.

Every text a chart or the report prints is written in English in the code and passed
through :func:`tr`; Chinese comes from :data:`ZH`, which uses the Blue Book's terms
(不良贷款率 NPL ratio, 信用损失 credit loss, 净利润 net profit, 风险补偿资金池 risk pool,
投贷联动 investment-loan linkage, 重资产/轻资产 heavy/light asset operator, ...). A text
missing from the table is an error, not a silent English fallback, so a Chinese chart
never mixes languages by accident (tests draw every chart in Chinese).

Texts may hold ``{placeholders}`` that the caller fills after translating.
"""

from __future__ import annotations

LANGS: tuple[str, ...] = ("en", "zh")

ZH: dict[str, str] = {
    # axes and units
    "quarter": "季度",
    "万元": "万元",
    "{money} per quarter": "{money}/季度",
    "money in 万元 (10k CNY)": "金额单位：万元",
    "exposure ({money})": "贷款余额（{money}）",
    "NPL ratio (%)": "不良贷款率（%）",
    "cumulative credit loss ({money})": "累计信用损失（{money}）",
    "defaults per quarter (loans)": "每季度违约贷款（笔）",
    "cumulative revenue ({money})": "累计收入（{money}）",
    "cumulative net profit ({money})": "累计净利润（{money}）",
    "replications (%, log scale)": "模拟次数占比（%，对数坐标）",
    "enterprises (firms, log scale)": "企业数（家，对数坐标）",
    "debt / total assets (%)": "负债/总资产（%）",
    "occupied / total floor area (%)": "已出租/总面积（%）",
    "expected shortfall 99 % of cumulative credit loss ({money}): risk": (
        "累计信用损失的99%预期短缺 ES（{money}）：风险"
    ),
    "mean cumulative net profit ({money}): return": "累计净利润均值（{money}）：收益",
    # panel titles
    "net interest income": "净利息收入",
    "fee income": "中间业务收入",
    "equity income": "投贷联动股权收益",
    "personal finance income": "个人金融收入",
    "operating cost": "运营成本",
    "cumulative net profit": "累计净利润",
    "operator revenue": "运营方收入",
    "operator leverage": "运营方杠杆率",
    "occupancy": "出租率",
    # chart titles and notes
    "Focal bank: credit risk by strategy (means over replications)": (
        "本行：各策略的信用风险（各次模拟的均值）"
    ),
    "Focal bank: revenue and cost by strategy (means over replications)": (
        "本行：各策略的收入与成本（各次模拟的均值）"
    ),
    "Park operator by strategy (means over replications)": "园区运营方：各策略（各次模拟的均值）",
    "Focal bank: NPL ratio, four-quarter average": "本行：不良贷款率（四季度平均）",
    "each replication's NPL ratio averaged over the last four quarters; "
    "the 90 % band of a ratio of few loans is noise, so only the middle 50 % is shown": (
        "每次模拟的不良贷款率取最近四个季度的平均；贷款笔数少时比率的90%区间只是噪声，故只画中间50%"
    ),
    "Focal bank: cumulative credit loss": "本行：累计信用损失",
    "Focal bank: cumulative revenue (interest, fees, equity and personal finance)": (
        "本行：累计收入（利息、中间业务、股权与个人金融）"
    ),
    "Focal bank: cumulative net profit": "本行：累计净利润",
    "Focal bank: distribution of cumulative credit loss over replications": (
        "本行：累计信用损失在各次模拟中的分布"
    ),
    "with fewer than 100 replications VaR and ES at 99 % are both the largest loss seen": (
        "模拟少于100次时，99% VaR与ES都等于模拟中的最大损失"
    ),
    "Focal bank: return against tail risk by strategy (up and left is better)": (
        "本行：各策略的收益与尾部风险（越靠左上越好）"
    ),
    "bars: 95 % intervals (bootstrap for the ES, normal for the mean profit)": (
        "误差线：95%区间（ES用自助法，利润均值用正态近似）"
    ),
    "; points nudged sideways where they would hide each other": "；重叠的点左右略微错开",
    "Park: enterprises by life-cycle stage (means over replications)": (
        "园区：各生命周期阶段的企业数（各次模拟的均值）"
    ),
    # legends
    "median": "中位数",
    "mean": "均值",
    "middle 50 %": "中间50%",
    "middle 90 % of replications": "中间90%的模拟",
    "middle 50 % of replications": "中间50%的模拟",
    "expected loss (mean)": "预期损失（均值）",
    "VaR 99 %": "在险价值 VaR 99%",
    "expected shortfall 99 %": "预期短缺 ES 99%",
    "stage": "阶段",
    "seed": "种子期",
    "startup": "初创期",
    "growth": "成长期",
    "pre-IPO": "Pre-IPO期",
    "listed": "已上市",
    # the provenance footer
    "parksim {version} · scenario {scenario} · seed {seed} · {replications} replications": (
        "parksim {version} · 情景 {scenario} · 随机种子 {seed} · {replications}次模拟"
    ),
    "parksim {version} · compare {runs}": "parksim {version} · 对比 {runs}",
    "{label} (seed {seed}, {replications} reps)": "{label}（随机种子 {seed}，{replications}次）",
}


def check_lang(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGS`, else ValueError naming the choices."""
    if lang not in LANGS:
        raise ValueError(f"lang: expected one of {', '.join(LANGS)}, got {lang!r}")
    return lang


def tr(text: str, lang: str = "en") -> str:
    """``text`` in ``lang``: itself in English, its entry of :data:`ZH` in Chinese."""
    if check_lang(lang) == "en":
        return text
    try:
        return ZH[text]
    except KeyError:
        raise KeyError(f"no Chinese for {text!r} in parksim.reporting.i18n.ZH") from None
