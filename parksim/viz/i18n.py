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
    # the report
    "parksim report: {scenario}": "parksim 报告：情景 {scenario}",
    "The scenario and its strategies": "情景与策略",
    "Park {park}: {enterprises} enterprises at the start, followed for {horizon} quarters. "
    "Every strategy ran {replications} replications from seed {seed}; replication i of "
    "every strategy shares its random numbers, so differences between strategies are "
    "paired.": (
        "园区 {park}：初始 {enterprises} 家企业，模拟 {horizon} 个季度。每个策略从随机种子 {seed} "
        "模拟 {replications} 次；各策略的第 i 次模拟使用相同的随机数，因此策略之间的差异是配对的。"
    ),
    "{name}: the focal bank serves the park at tier {tier}, with {operator}": (
        "{name}：本行以 {tier} 服务层级服务园区，{operator}"
    ),
    "a heavy-asset operator (重资产: builds and owns the buildings)": (
        "重资产运营方（自建并持有物业）"
    ),
    "a light-asset operator (轻资产: manages, owns little)": "轻资产运营方（只运营、少持有）",
    "an adaptive operator (switches between heavy and light assets)": (
        "灵活运营方（在重资产与轻资产之间切换）"
    ),
    "; policy: {changes}": "；政策：{changes}",
    "; from quarter {quarter}: {moves}": "；自第 {quarter} 季度起：{moves}",
    "tier {tier}": "{tier} 服务层级",
    "risk-pool (风险补偿资金池) share of a loss": "风险补偿资金池分担比例",
    "risk-pool capital (万元)": "风险补偿资金池规模（万元）",
    "government guarantee share of a loss": "政府担保分担比例",
    "guarantee fee (a year)": "担保费率（年）",
    "interest subsidy (a year)": "贴息（年）",
    "REITs available": "可发行 REITs",
    "M&A loan cap (share of the deal price)": "并购贷款上限（占交易价格比例）",
    "Summary over replications": "各次模拟汇总",
    "Means over replications; money in 万元.": "各次模拟的均值；金额单位：万元。",
    "strategy": "策略",
    "mean cumulative net profit (万元)": "累计净利润均值（万元）",
    "expected loss EL (万元)": "预期损失 EL（万元）",
    "NPL ratio at the horizon (%)": "期末不良贷款率（%）",
    "listings (firms)": "上市企业（家）",
    "return on risk (profit / UL 99.9 %)": "风险收益比（利润/UL 99.9%）",
    "Tail risk of the cumulative credit loss (万元)": "累计信用损失的尾部风险（万元）",
    "VaR is the k-th smallest of the n simulated losses (k = ⌈α·n⌉), ES the mean of the "
    "losses at or above it. With fewer than 1,000 replications the 99.9 % figures are the "
    "largest loss seen.": (
        "VaR 为 n 个模拟损失中第 k 小的值（k = ⌈α·n⌉），ES 为不低于 VaR 的损失的均值。"
        "模拟少于 1,000 次时，99.9% 的数值就是模拟中的最大损失。"
    ),
    "VaR 95 %": "VaR 95%",
    "ES 95 %": "ES 95%",
    "ES 99 %": "ES 99%",
    "VaR 99.9 %": "VaR 99.9%",
    "UL 99.9 %": "非预期损失 UL 99.9%",
    "Paired differences from the reference strategy": "与参照策略的配对差异",
    "Strategy minus reference ({reference}), replication by replication, with 95 % "
    "intervals; the break-even quarter is the first from which the interval of the "
    "cumulative difference stays on the better side of zero.": (
        "策略减参照策略（{reference}），逐次模拟配对，附95%区间；盈亏平衡季度是累计差异的区间"
        "此后一直处于零的有利一侧的第一个季度。"
    ),
    "This run folder has no differences.csv (runs made before parksim 0.3.0 lack it).": (
        "此运行目录中没有 differences.csv（parksim 0.3.0 之前的运行没有此文件）。"
    ),
    "metric": "指标",
    "difference (mean)": "差异（均值）",
    "95 % interval, low": "95%区间下限",
    "95 % interval, high": "95%区间上限",
    "replications better (%)": "更优的模拟占比（%）",
    "break-even quarter": "盈亏平衡季度",
    "Charts": "图表",
    "The assumptions that matter most": "最重要的假设",
    "From the sensitivity study in {study}: the parameters with the largest indices.": (
        "来自敏感性分析 {study}：指数最大的参数。"
    ),
    "No sensitivity study of this scenario was found next to the run (parksim sensitivity "
    "writes indices.csv; name its folder with --sensitivity).": (
        "运行目录旁没有此情景的敏感性分析（parksim sensitivity 会写出 indices.csv；"
        "可用 --sensitivity 指定其目录）。"
    ),
    "parameter": "参数",
    "versus": "对比策略",
    "mu_star": "mu_star",
    "ST": "ST",
    "Provenance": "来源与版本",
    "scenario": "情景",
    "random seed": "随机种子",
    "replications per strategy": "每个策略的模拟次数",
    "command": "命令",
    "started": "开始时间",
    "ended": "结束时间",
    "source fingerprint": "源代码指纹",
    "version of {package}": "{package} 版本",
    "report written by": "报告生成程序",
    # the provenance footer
    "parksim {version} · scenario {scenario} · seed {seed} · {replications} replications": (
        "parksim {version} · 情景 {scenario} · 随机种子 {seed} · {replications}次模拟"
    ),
    "parksim {version} · compare {runs}": "parksim {version} · 对比 {runs}",
    "{label} (seed {seed}, {replications} reps)": "{label}（随机种子 {seed}，{replications}次）",
    # Difference charts (parksim.viz.difference_charts).
    "Focal bank: cumulative net profit, strategy − reference (higher is better)": (
        "本行：累计净利润，策略 − 基准（越高越好）"
    ),
    "Focal bank: cumulative credit loss, strategy − reference (lower is better)": (
        "本行：累计信用损失，策略 − 基准（越低越好）"
    ),
    "strategy − reference ({money})": "策略 − 基准（{money}）",
    "95 % interval of the mean": "均值的95%区间",
    "mean difference": "平均差异",
    "break-even": "盈亏平衡",
    "Differences from {reference} with 95 % intervals (paired by replication)": (
        "相对 {reference} 的差异及95%区间（按模拟配对）"
    ),
    "higher is better": "越高越好",
    "lower is better": "越低越好",
    "Cumulative net profit": "累计净利润",
    "NPV of net profit": "净利润现值",
    "Cumulative banking profit": "累计银行业务利润",
    "Cumulative equity income": "累计股权收益",
    "Cumulative credit loss": "累计信用损失",
    "Cumulative credit loss, ES 95\u00a0%": "累计信用损失 ES 95%",
    "Cumulative credit loss, ES 99\u00a0%": "累计信用损失 ES 99%",
    "Cumulative credit loss, VaR 95\u00a0%": "累计信用损失 VaR 95%",
    "Cumulative credit loss, VaR 99\u00a0%": "累计信用损失 VaR 99%",
    "Cumulative expected loss": "累计预期损失",
    "NPL ratio at the horizon": "期末不良贷款率",
    "RAROC at the horizon": "期末风险调整资本回报率 RAROC",
    "Cumulative listings": "累计上市数",
    "Cumulative fiscal cost": "累计财政成本",
    "New loans to seed and startup firms, cumulative": "对种子期与初创期企业的累计新增贷款",
    "0 in every replication": "每次模拟均为0",
    "percentage points": "百分点",
    "万元 at quarter 0": "万元（第0季度现值）",
    "firms": "家企业",
    "share": "比例",
    "share per year": "年化比例",
}


#: How the metrics of differences.csv are titled in charts (English; Chinese through ZH).
METRIC_TITLES = {
    "cum_net_profit": "Cumulative net profit",
    "npv_net_profit": "NPV of net profit",
    "cum_banking_profit": "Cumulative banking profit",
    "cum_equity_income": "Cumulative equity income",
    "cum_credit_loss": "Cumulative credit loss",
    "cum_credit_loss_es95": "Cumulative credit loss, ES 95\u00a0%",
    "cum_credit_loss_es99": "Cumulative credit loss, ES 99\u00a0%",
    "cum_credit_loss_var95": "Cumulative credit loss, VaR 95\u00a0%",
    "cum_credit_loss_var99": "Cumulative credit loss, VaR 99\u00a0%",
    "cum_expected_loss": "Cumulative expected loss",
    "final_npl_ratio": "NPL ratio at the horizon",
    "final_raroc": "RAROC at the horizon",
    "cum_listings": "Cumulative listings",
    "cum_fiscal_cost": "Cumulative fiscal cost",
    "cum_young_new_loans": "New loans to seed and startup firms, cumulative",
}


def metric_title(metric: str, lang: str = "en") -> str:
    """The chart title of a differences.csv metric, e.g. ``final_raroc`` → RAROC at the
    horizon (期末风险调整资本回报率 RAROC)."""
    return tr(METRIC_TITLES[metric], lang)


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
        raise KeyError(f"no Chinese for {text!r} in parksim.viz.i18n.ZH") from None
