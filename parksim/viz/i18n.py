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
    "a heavy-asset operator (重资产: builds and owns the buildings)": (
        "重资产运营方（自建并持有物业）"
    ),
    "a light-asset operator (轻资产: manages, owns little)": "轻资产运营方（只运营、少持有）",
    "an adaptive operator (switches between heavy and light assets)": (
        "灵活运营方（在重资产与轻资产之间切换）"
    ),
    "risk-pool (风险补偿资金池) share of a loss": "风险补偿资金池分担比例",
    "government guarantee share of a loss": "政府担保分担比例",
    "REITs available": "可发行 REITs",
    "M&A loan cap (share of the deal price)": "并购贷款上限（占交易价格比例）",
    "Summary over replications": "各次模拟汇总",
    "The focal bank serves the park at tier {tier}, with {operator}; policy: {policy}.": (
        "本行以 {tier} 服务层级服务园区，{operator}；政策：{policy}。"
    ),
    "From quarter {quarter}: {moves}": "自第 {quarter} 季度起：{moves}",
    "tier {before} → {after} (investment {investment} 万元, ramp over {ramp} quarters)": (
        "服务层级 {before} → {after}（投入 {investment} 万元，{ramp} 个季度内逐步到位）"
    ),
    "the operator becomes {operator}": "运营方改为{operator}",
    "policy: {changes}": "政策：{changes}",
    "No scheduled changes.": "无计划中的调整。",
    "Model parameters this strategy changes: {params}.": "本策略调整的模型参数：{params}。",
    "from quarter {quarter}: tier {before} → {after} (investment {investment} 万元, "
    "ramp over {ramp} quarters)": (
        "自第 {quarter} 季度起服务层级 {before} → {after}（投入 {investment} 万元，"
        "{ramp} 个季度内逐步到位）"
    ),
    "follows the focal bank to its new tier {lag} quarters after each of its moves "
    "(never down; ramp over {ramp} quarters)": (
        "在本行每次调整后 {lag} 个季度跟进至本行的新服务层级（只升不降；{ramp} 个季度内逐步到位）"
    ),
    "cuts its loan margin by {cut} pp a year as it follows": (
        "跟进时将贷款利差每年下调 {cut} 个百分点"
    ),
    "accepts an expected loss of up to {loss} % a year as it follows": (
        "跟进时可接受的预期损失率上限为每年 {loss}%"
    ),
    "Competitor {name} (tier {tier}): {moves}.": "竞争银行 {name}（服务层级 {tier}）：{moves}。",
    "Competitors that do not move: {banks}.": "不作调整的竞争银行：{banks}。",
    "{name} (tier {tier})": "{name}（服务层级 {tier}）",
    "macro factor {value} sd": "宏观因子 {value} 个标准差",
    "valuations × {value}": "估值 × {value}",
    "loan reference rate {value} pp": "贷款参考利率（LPR）{value} 个百分点",
    "funding cost {value} pp": "资金成本（FTP）{value} 个百分点",
    "IPO window {value}": "IPO 窗口{value}",
    "open": "开启",
    "shut": "关闭",
    "no change": "无变化",
    "Quarters {start}–{end}: {effects}.": "第 {start}–{end} 季度：{effects}。",
    "the strategy's own [strategies.stress]": "本策略自设 [strategies.stress]",
    "the scenario's [stress]": "情景设定 [stress]",
    "preset {preset}, its quarter 1 in quarter {start}": (
        "预设情景 {preset}，其第 1 季度为情景第 {start} 季度"
    ),
    "{n} own periods": "{n} 个自定义时段",
    "Stress path ({where}): {what}, at severity {severity}.": (
        "压力路径（{where}）：{what}，严重程度 {severity}。"
    ),
    ", ": "，",
    "; ": "；",
    ".": "。",
    "{value}": "{value}",
    "{value} %": "{value}%",
    "{value} 万元": "{value} 万元",
    "{value} % a year": "每年 {value}%",
    "risk-pool capital": "风险补偿资金池规模",
    "guarantee fee": "担保费率",
    "interest subsidy (贴息)": "贴息",
    "yes": "是",
    "no": "否",
    "The risk pool paid {paid} 万元 on average and ran out in {share} % of replications.": (
        "风险补偿资金池平均代偿 {paid} 万元，在 {share}% 的模拟中耗尽。"
    ),
    "A risk pool can raise the bank's credit losses: the bank approves a loan when its "
    "expected loss after policy cover fits its appetite, so cover lets it lend to riskier "
    "young firms, and gross defaults rise; a small pool runs out, and from then the bank "
    "bears those loans' losses in full.": (
        "风险补偿资金池可能提高银行的信用损失：银行在政策分担后的预期损失符合风险偏好时即批准贷款，"
        "因此分担使银行向风险更高的初创企业放贷，违约总额上升；资金池规模小时会耗尽，"
        "此后这些贷款的损失由银行全额承担。"
    ),
    "Parameters set away from their defaults": "与默认值不同的参数",
    "Every parameter of this scenario that differs from parksim's default (dotted addresses, "
    "as in overrides and assumptions.toml); the strategies' own tiers, operators, policies "
    "and moves are above.": (
        "本情景中所有与 parksim 默认值不同的参数（点分地址，与 overrides 和 assumptions.toml "
        "相同）；各策略自身的服务层级、运营方、政策与调整见上文。"
    ),
    "Every parameter of this scenario has parksim's default value.": (
        "本情景的所有参数都取 parksim 的默认值。"
    ),
    "this scenario": "本情景",
    "default": "默认值",
    "unit": "单位",
    "{name} ({unit})": "{name}（{unit}）",
    "{value}\n({low} to {high})": "{value}\n（{low} 至 {high}）",
    "Means over replications with their 95 % intervals (mean ± 1.96 standard errors) below "
    "them; money in 万元, shares in %. With few replications the intervals are wide, and an "
    "interval of a share may reach below zero.": (
        "各次模拟的均值，下方为其95%区间（均值 ± 1.96 个标准误）；金额单位为万元，比例以%表示。"
        "模拟次数少时区间较宽，比例的区间可能低于零。"
    ),
    "Below each estimate: its 95 % bootstrap percentile interval (1,000 resamples of the "
    "replications).": "每个估计值下方为其95%自助法百分位区间（对各次模拟重抽样1,000次）。",
    "Every summary metric, by strategy": "各策略的全部汇总指标",
    "difference (95 % interval)": "差异（95%区间）",
    "better": "方向",
    "From the sensitivity study in {study}: the parameters with the largest indices, with "
    "the range each was drawn from (parksim/data/assumptions.toml).": (
        "来自敏感性分析 {study}：指数最大的参数，及其取值范围（parksim/data/assumptions.toml）。"
    ),
    "range": "取值范围",
    "why this range": "范围依据",
    "× the scenario's value": "× 情景取值",
    "{low} to {high} {kind}": "{low} 至 {high} {kind}",
    "uniform": "均匀分布",
    "triangular": "三角分布",
    "log-uniform": "对数均匀分布",
    "strategy": "策略",
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
    "ES 99.9 %": "ES 99.9%",
    "return on risk (profit / UL)": "风险收益比（利润/UL）",
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
    "replications better (%)": "更优的模拟占比（%）",
    "break-even quarter": "盈亏平衡季度",
    "Charts": "图表",
    "Credit risk by strategy": "各策略的信用风险",
    "Revenue and cost by strategy": "各策略的收入与成本",
    "The park operator by strategy": "各策略下的园区运营方",
    "NPL ratio over replications": "不良贷款率在各次模拟中的分布",
    "Cumulative credit loss over replications": "累计信用损失在各次模拟中的分布",
    "Cumulative revenue over replications": "累计收入在各次模拟中的分布",
    "Cumulative net profit over replications": "累计净利润在各次模拟中的分布",
    "Distribution of the cumulative credit loss": "累计信用损失的分布",
    "Return against tail risk": "收益与尾部风险",
    "Enterprises by life-cycle stage": "各生命周期阶段的企业数",
    "Cumulative net profit, strategy minus reference": "累计净利润：策略减参照策略",
    "Cumulative credit loss, strategy minus reference": "累计信用损失：策略减参照策略",
    "Differences from the reference with 95 % intervals": "与参照策略的差异及95%区间",
    "The assumptions that matter most": "最重要的假设",
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


# --- metric names and units -----------------------------------------------------------------
#
# One table names every metric a reader meets: the time-series columns
# (parksim.core.metrics), the summary's metrics and tail figures (parksim.analysis.summary),
# differences.csv's metrics (parksim.analysis.differences) and the bank P&L columns. Each
# has an English label (Chinese through METRIC_ZH) and a unit (UNITS says how a value of
# that unit prints). The report and the charts take names from here.

#: Stage and sector words, for the per-stage and per-sector columns.
STAGE_WORDS: dict[str, tuple[str, str]] = {
    "seed": ("seed", "种子期"),
    "startup": ("startup", "初创期"),
    "growth": ("growth", "成长期"),
    "pre_ipo": ("pre-IPO", "Pre-IPO期"),
    "listed": ("listed", "已上市"),
    "failed": ("failed", "已失败"),
    "relocated": ("relocated", "已迁出"),
    "acquired": ("acquired", "已被并购"),
}
SECTOR_WORDS: dict[str, tuple[str, str]] = {
    "biomedicine": ("biomedicine", "生物医药"),
    "it_software": ("IT and software", "信息技术与软件"),
    "hard_tech": ("hard tech", "硬科技"),
    "advanced_manufacturing": ("advanced manufacturing", "先进制造"),
    "modern_services": ("modern services", "现代服务业"),
    "green": ("green industries", "绿色产业"),
}

#: Metric -> (English label, unit). Units are those of parksim.core.metrics and
#: parksim.analysis.summary ("share" is a ratio 0-1, printed as a percentage).
METRIC_LABELS: dict[str, tuple[str, str]] = {
    # time-series columns: park
    "entries": ("New enterprises", "firms"),
    "listings": ("Listings (IPOs)", "firms"),
    "failures": ("Failures", "firms"),
    "n_chain_leaders": ("Chain leaders (链主)", "firms"),
    "output": ("Output of the park's enterprises", "万元/quarter"),
    # risk
    "focal_tier": ("Focal bank's service tier", "tier"),
    "exposure": ("Loan balance (exposure)", "万元"),
    "new_loans": ("New loans", "万元"),
    "repayments": ("Principal repaid", "万元"),
    "written_off": ("Written off", "万元"),
    "defaults": ("Defaults", "loans"),
    "defaulted_exposure": ("Defaulted balance", "万元"),
    "npl_balance": ("NPL balance", "万元"),
    "npl_ratio": ("NPL ratio", "share"),
    "borrowers": ("Borrowers", "firms"),
    "credit_loss": ("Credit loss", "万元"),
    "policy_recoveries": ("Risk-pool and guarantee recoveries", "万元"),
    "collateral_recoveries": ("Collateral recoveries", "万元"),
    "expected_loss": ("Expected loss of the performing book", "万元"),
    "operator_exposure": ("Development loans to the operator", "万元"),
    "macro_factor": ("Macro credit factor", "standard normal"),
    "sold_down": ("Balance sold to keep within the single-name limit", "万元"),
    "largest_exposure_share": ("Largest single exposure / book", "share"),
    "top10_exposure_share": ("Ten largest exposures / book", "share"),
    "hhi_exposure": ("Borrower concentration (HHI)", "share²"),
    "sector_hhi": ("Sector concentration (HHI)", "share²"),
    "capital_irb": ("IRB credit-risk capital", "万元"),
    "capital_operational": ("Operational-risk capital", "万元"),
    "capital_equity": ("Capital on equity stakes", "万元"),
    "capital_operator": ("Capital on operator loans", "万元"),
    "capital": ("Capital", "万元"),
    "granularity_adjustment": ("Granularity adjustment", "万元"),
    # revenue
    "net_interest_income": ("Net interest income", "万元"),
    "fee_income": ("Fee income", "万元"),
    "equity_income": ("Equity income", "万元"),
    "personal_finance_income": ("Personal finance income", "万元"),
    "deposit_income": ("Deposit spread income", "万元"),
    "deposits": ("Settlement deposits", "万元"),
    "operating_cost": ("Operating cost", "万元"),
    "investment": ("Tier-move investment", "万元"),
    "net_profit": ("Net profit", "万元"),
    "raroc": ("RAROC", "share per year"),
    # operator
    "operator_revenue": ("Operator revenue", "万元"),
    "operator_equity_income": ("Operator equity income", "万元"),
    "operator_leverage": ("Operator leverage (debt / assets)", "share"),
    "operator_light": ("Light-asset operator", "0/1"),
    "operator_in_default": ("Operator in default", "0/1"),
    "occupancy": ("Occupancy", "share"),
    # policy
    "fiscal_pool_paid": ("Risk-pool payouts", "万元"),
    "fiscal_guarantee_paid": ("Guarantee payouts", "万元"),
    "fiscal_subsidy_cost": ("Interest subsidy paid", "万元"),
    "pool_remaining": ("Risk-pool capital left", "万元"),
    "young_new_loans": ("New loans to seed and startup firms", "万元"),
    # the bank's P&L (income statement, balance sheet, group view)
    "interest_income": ("Interest income", "万元"),
    "interest_expense": ("Interest expense", "万元"),
    "ftp_charge": ("FTP charge (funds transfer pricing)", "万元"),
    "ftp_credit": ("FTP credit on deposits", "万元"),
    "fee_settlement": ("Settlement fees", "万元"),
    "fee_bond": ("Bond underwriting fees", "万元"),
    "fee_advisory": ("Advisory fees", "万元"),
    "fee_reit": ("REIT arrangement fees", "万元"),
    "fee_referral": ("Referral fees", "万元"),
    "head_office_cost": ("Head-office cost allocation", "万元"),
    "pre_tax_profit": ("Pre-tax profit", "万元"),
    "tax": ("Income tax", "万元"),
    "cost_income_ratio": ("Cost-income ratio", "share"),
    "roa": ("Return on assets (ROA)", "share per year"),
    "pretax_roa": ("Pre-tax return on assets", "share per year"),
    "group_equity_income": ("Group equity income", "万元"),
    "group_net_profit": ("Group net profit", "万元"),
    "stakes_fair_value": ("Fair value of equity stakes", "万元"),
    "group_fee_income": ("Group securities affiliate's sponsor and underwriting fees", "万元"),
    "group_equity_fv_income": ("Group equity income, fair-value view", "万元"),
    "demand_deposits": ("Demand deposits", "万元"),
    "time_deposits": ("Time deposits", "万元"),
    "balance_sheet": ("Balance sheet (total assets)", "万元"),
    "single_name_limit": ("Single-name limit", "万元"),
    "allocated_capital": ("Allocated capital", "万元"),
    # the summary's metrics (parksim.analysis.summary.METRICS and TAIL_METRICS)
    "cum_credit_loss": ("Cumulative credit loss", "万元"),
    "mean_capital": ("Mean capital", "万元"),
    "cum_net_interest_income": ("Cumulative net interest income", "万元"),
    "cum_fee_income": ("Cumulative fee income", "万元"),
    "cum_equity_income": ("Cumulative equity income", "万元"),
    "cum_personal_finance_income": ("Cumulative personal finance income", "万元"),
    "cum_operating_cost": ("Cumulative operating cost", "万元"),
    "cum_net_profit": ("Cumulative net profit", "万元"),
    "final_npl_ratio": ("NPL ratio at the horizon", "share"),
    "peak_exposure": ("Peak loan balance", "万元"),
    "final_exposure": ("Loan balance at the horizon", "万元"),
    "cum_new_loans": ("Cumulative new loans", "万元"),
    "cum_defaults": ("Cumulative defaults", "loans"),
    "cum_listings": ("Cumulative listings", "firms"),
    "cum_failures": ("Cumulative failures", "firms"),
    "cum_entries": ("Cumulative new enterprises", "firms"),
    "annual_default_rate": ("Annual default rate", "share per year"),
    "mean_operator_leverage": ("Mean operator leverage", "share"),
    "mean_occupancy": ("Mean occupancy", "share"),
    "cum_operator_revenue": ("Cumulative operator revenue", "万元"),
    "cum_fiscal_pool_paid": ("Cumulative risk-pool payouts", "万元"),
    "cum_fiscal_guarantee_paid": ("Cumulative guarantee payouts", "万元"),
    "cum_fiscal_subsidy_cost": ("Cumulative interest subsidy", "万元"),
    "cum_fiscal_cost": ("Cumulative fiscal cost", "万元"),
    "final_pool_remaining": ("Risk-pool capital left at the horizon", "万元"),
    "cum_young_new_loans": ("New loans to seed and startup firms, cumulative", "万元"),
    "cum_credit_loss_var95": ("Cumulative credit loss, VaR 95\u00a0%", "万元"),
    "cum_credit_loss_es95": ("Cumulative credit loss, ES 95\u00a0%", "万元"),
    "cum_credit_loss_var99": ("Cumulative credit loss, VaR 99\u00a0%", "万元"),
    "cum_credit_loss_es99": ("Cumulative credit loss, ES 99\u00a0%", "万元"),
    "cum_credit_loss_var99_9": ("Cumulative credit loss, VaR 99.9\u00a0%", "万元"),
    "cum_credit_loss_es99_9": ("Cumulative credit loss, ES 99.9\u00a0%", "万元"),
    "unexpected_loss_99_9": ("Unexpected loss UL 99.9\u00a0%", "万元"),
    "return_on_risk": ("Return on risk (profit / UL 99.9\u00a0%)", "万元 per 万元"),
    "pool_exhausted_share": ("Replications in which the risk pool ran out", "share"),
    "extra_young_lending_per_fiscal_cost": (
        "Extra young-firm lending per 万元 of extra fiscal cost",
        "万元 per 万元",
    ),
    # differences.csv's metrics (parksim.analysis.differences)
    "npv_net_profit": ("NPV of net profit", "万元 at quarter 0"),
    "cum_banking_profit": ("Cumulative banking profit", "万元"),
    "npv_group_net_profit": ("NPV of group net profit", "万元 at quarter 0"),
    "cum_gross_credit_loss": ("Cumulative gross credit loss", "万元"),
    "cum_policy_recoveries": ("Cumulative policy recoveries", "万元"),
    "operator_asset_model": ("Operator's asset model", "heavy/light"),
    "cum_expected_loss": ("Cumulative expected loss", "万元"),
    "final_raroc": ("RAROC at the horizon", "share per year"),
    # the P&L columns summed over the horizon
    **{
        f"cum_{name}": (f"Cumulative {label[0].lower()}{label[1:]}", "万元")
        for name, label in (
            ("pre_tax_profit", "Pre-tax profit"),
            ("tax", "Income tax"),
            ("group_net_profit", "Group net profit"),
            ("group_equity_income", "Group equity income"),
            ("group_equity_fv_income", "Group equity income, fair-value view"),
            ("group_fee_income", "Group securities affiliate's sponsor and underwriting fees"),
            ("interest_income", "Interest income"),
            ("interest_expense", "Interest expense"),
            ("head_office_cost", "Head-office cost allocation"),
        )
    },
    # per stage and per sector
    **{f"n_{s}": (f"Enterprises: {w[0]}", "firms") for s, w in STAGE_WORDS.items()},
    **{
        f"exposure_{s}": (f"Loan balance: {w[0]} firms", "万元")
        for s, w in STAGE_WORDS.items()
        if s not in ("failed", "relocated", "acquired")
    },
    **{
        f"borrowers_{s}": (f"Borrowers: {w[0]} firms", "firms")
        for s, w in STAGE_WORDS.items()
        if s not in ("failed", "relocated", "acquired")
    },
    **{
        f"defaults_{s}": (f"Defaults: {w[0]} firms", "loans")
        for s, w in STAGE_WORDS.items()
        if s not in ("failed", "relocated", "acquired")
    },
    **{
        f"default_rate_{s}": (f"Quarterly default rate: {w[0]} firms", "share per quarter")
        for s, w in STAGE_WORDS.items()
        if s not in ("failed", "relocated", "acquired")
    },
    **{f"exposure_{s}": (f"Loan balance: {w[0]} sector", "万元") for s, w in SECTOR_WORDS.items()},
}

#: Chinese for every label of METRIC_LABELS (the Blue Book's terms).
METRIC_ZH: dict[str, str] = {
    "New enterprises": "新进入企业",
    "Listings (IPOs)": "上市企业（IPO）",
    "Failures": "失败企业",
    "Chain leaders (链主)": "链主企业",
    "Output of the park's enterprises": "园区企业产出",
    "Focal bank's service tier": "本行服务层级",
    "Loan balance (exposure)": "贷款余额",
    "New loans": "新增贷款",
    "Principal repaid": "收回本金",
    "Written off": "核销",
    "Defaults": "违约贷款",
    "Defaulted balance": "违约贷款余额",
    "NPL balance": "不良贷款余额",
    "NPL ratio": "不良贷款率",
    "Borrowers": "借款企业",
    "Credit loss": "信用损失",
    "Risk-pool and guarantee recoveries": "风险补偿资金池与担保代偿",
    "Collateral recoveries": "抵押物回收",
    "Expected loss of the performing book": "正常贷款的预期损失",
    "Development loans to the operator": "对运营方的开发贷款",
    "Macro credit factor": "宏观信用因子",
    "Balance sold to keep within the single-name limit": "为满足单一客户限额出售的贷款",
    "Largest single exposure / book": "最大单一客户贷款占比",
    "Ten largest exposures / book": "前十大客户贷款占比",
    "Borrower concentration (HHI)": "客户集中度（HHI）",
    "Sector concentration (HHI)": "行业集中度（HHI）",
    "IRB credit-risk capital": "内部评级法信用风险资本",
    "Operational-risk capital": "操作风险资本",
    "Capital on equity stakes": "股权投资占用资本",
    "Capital on operator loans": "运营方贷款占用资本",
    "Capital": "资本占用",
    "Granularity adjustment": "集中度资本附加（粒度调整）",
    "Net interest income": "净利息收入",
    "Fee income": "中间业务收入",
    "Equity income": "投贷联动股权收益",
    "Personal finance income": "个人金融收入",
    "Deposit spread income": "存款利差收入",
    "Settlement deposits": "结算存款",
    "Operating cost": "运营成本",
    "Tier-move investment": "服务层级升级投入",
    "Net profit": "净利润",
    "RAROC": "风险调整资本回报率 RAROC",
    "Operator revenue": "运营方收入",
    "Operator equity income": "运营方股权收益",
    "Operator leverage (debt / assets)": "运营方杠杆率（负债/资产）",
    "Light-asset operator": "轻资产运营",
    "Operator in default": "运营方违约",
    "Occupancy": "出租率",
    "Risk-pool payouts": "风险补偿资金池代偿",
    "Guarantee payouts": "政府担保代偿",
    "Interest subsidy paid": "贴息支出",
    "Risk-pool capital left": "风险补偿资金池余额",
    "New loans to seed and startup firms": "对种子期与初创期企业的新增贷款",
    "Interest income": "利息收入",
    "Interest expense": "利息支出",
    "FTP charge (funds transfer pricing)": "内部资金转移定价（FTP）成本",
    "FTP credit on deposits": "存款 FTP 收益",
    "Settlement fees": "结算手续费",
    "Bond underwriting fees": "债券承销费",
    "Advisory fees": "财务顾问费",
    "REIT arrangement fees": "REITs 安排费",
    "Referral fees": "推荐费",
    "Head-office cost allocation": "总行费用分摊",
    "Pre-tax profit": "税前利润",
    "Income tax": "所得税",
    "Cost-income ratio": "成本收入比",
    "Return on assets (ROA)": "资产收益率 ROA",
    "Pre-tax return on assets": "税前资产收益率",
    "Group equity income": "集团股权投资收益",
    "Group net profit": "集团净利润",
    "Fair value of equity stakes": "股权投资公允价值",
    "Group securities affiliate's sponsor and underwriting fees": "集团券商子公司保荐与承销收入",
    "Group equity income, fair-value view": "集团股权投资收益（公允价值口径）",
    "Demand deposits": "活期存款",
    "Time deposits": "定期存款",
    "Balance sheet (total assets)": "资产总额",
    "Single-name limit": "单一客户授信限额",
    "Allocated capital": "分配资本",
    "Mean capital": "平均资本占用",
    "Cumulative net interest income": "累计净利息收入",
    "Cumulative fee income": "累计中间业务收入",
    "Cumulative personal finance income": "累计个人金融收入",
    "Cumulative operating cost": "累计运营成本",
    "Peak loan balance": "贷款余额峰值",
    "Loan balance at the horizon": "期末贷款余额",
    "Cumulative new loans": "累计新增贷款",
    "Cumulative defaults": "累计违约贷款",
    "Cumulative failures": "累计失败企业",
    "Cumulative new enterprises": "累计新进入企业",
    "Annual default rate": "年违约率",
    "Mean operator leverage": "运营方平均杠杆率",
    "Mean occupancy": "平均出租率",
    "Cumulative operator revenue": "运营方累计收入",
    "Cumulative risk-pool payouts": "风险补偿资金池累计代偿",
    "Cumulative guarantee payouts": "政府担保累计代偿",
    "Cumulative interest subsidy": "累计贴息",
    "Risk-pool capital left at the horizon": "期末风险补偿资金池余额",
    "Cumulative credit loss, VaR 99.9\u00a0%": "累计信用损失 VaR 99.9%",
    "Cumulative credit loss, ES 99.9\u00a0%": "累计信用损失 ES 99.9%",
    "Unexpected loss UL 99.9\u00a0%": "非预期损失 UL 99.9%",
    "Return on risk (profit / UL 99.9\u00a0%)": "风险收益比（利润/UL 99.9%）",
    "Replications in which the risk pool ran out": "风险补偿资金池耗尽的模拟占比",
    "Extra young-firm lending per 万元 of extra fiscal cost": (
        "每万元新增财政成本带来的新增初创企业贷款"
    ),
    "Cumulative pre-tax profit": "累计税前利润",
    "Cumulative income tax": "累计所得税",
    "Cumulative group net profit": "累计集团净利润",
    "Cumulative group equity income": "累计集团股权投资收益",
    "Cumulative interest income": "累计利息收入",
    "Cumulative interest expense": "累计利息支出",
    "Cumulative head-office cost allocation": "累计总行费用分摊",
    "Cumulative group equity income, fair-value view": "累计集团股权投资收益（公允价值口径）",
    "Cumulative group securities affiliate's sponsor and underwriting fees": (
        "累计集团券商子公司保荐与承销收入"
    ),
    "NPV of group net profit": "集团净利润现值",
    "Cumulative gross credit loss": "累计信用损失（政策代偿前）",
    "Cumulative policy recoveries": "累计政策性代偿",
    "Operator's asset model": "运营方资产模式",
    "heavy/light": "重/轻资产",
    **{f"Enterprises: {w[0]}": f"{w[1]}企业数" for w in STAGE_WORDS.values()},
    **{f"Loan balance: {w[0]} firms": f"对{w[1]}企业的贷款余额" for w in STAGE_WORDS.values()},
    **{f"Borrowers: {w[0]} firms": f"{w[1]}借款企业" for w in STAGE_WORDS.values()},
    **{f"Defaults: {w[0]} firms": f"{w[1]}企业违约贷款" for w in STAGE_WORDS.values()},
    **{
        f"Quarterly default rate: {w[0]} firms": f"{w[1]}企业季度违约率"
        for w in STAGE_WORDS.values()
    },
    **{f"Loan balance: {w[0]} sector": f"{w[1]}行业贷款余额" for w in SECTOR_WORDS.values()},
}

#: How a value of each unit prints: (unit label, scale, decimals of a value, decimals of a
#: difference, unit label of a difference). A share prints as a percentage and its
#: difference in percentage points.
UNITS: dict[str, tuple[str, float, int, int, str]] = {
    "万元": ("万元", 1.0, 0, 0, "万元"),
    "万元 at quarter 0": ("万元 at quarter 0", 1.0, 0, 0, "万元 at quarter 0"),
    "万元/quarter": ("万元 a quarter", 1.0, 0, 0, "万元 a quarter"),
    "万元 per 万元": ("万元 per 万元", 1.0, 2, 2, "万元 per 万元"),
    "万元 per 万元 (share)": ("万元 per 万元", 1.0, 2, 2, "万元 per 万元"),
    "share": ("%", 100.0, 2, 2, "pp"),
    "share per year": ("% a year", 100.0, 2, 2, "pp a year"),
    "share/year": ("% a year", 100.0, 2, 2, "pp a year"),
    "share per quarter": ("% a quarter", 100.0, 2, 2, "pp a quarter"),
    "share²": ("HHI, 0-1", 1.0, 3, 3, "HHI, 0-1"),
    "firms": ("firms", 1.0, 1, 1, "firms"),
    "loans": ("loans", 1.0, 1, 1, "loans"),
    "0/1": ("share of quarters", 1.0, 2, 2, "share of quarters"),
    "tier": ("tier", 1.0, 1, 1, "tier"),
    "standard normal": ("standard deviations", 1.0, 2, 2, "standard deviations"),
    "quarter": ("quarter", 1.0, 0, 0, "quarters"),
    "heavy/light": ("heavy/light", 1.0, 0, 0, "heavy/light"),
}
UNITS_ZH: dict[str, str] = {
    "%": "%",
    "万元 at quarter 0": "万元（第0季度现值）",
    "万元 a quarter": "万元/季度",
    "万元 per 万元": "万元/万元",
    "% a year": "%/年",
    "% a quarter": "%/季度",
    "pp": "个百分点",
    "pp a year": "个百分点/年",
    "pp a quarter": "个百分点/季度",
    "HHI, 0-1": "HHI，0-1",
    "loans": "笔",
    "share of quarters": "季度占比",
    "tier": "层级",
    "standard deviations": "个标准差",
    "quarters": "个季度",
}
MINUS = "\u2212"  # a typographic minus: "−0.32 pp", not "-0.32 pp"


def _merge(table: dict[str, str]) -> None:
    """Add `table` to ZH; a text both hold must read the same in both."""
    for text, zh in table.items():
        if ZH.setdefault(text, zh) != zh:
            raise ValueError(f"two Chinese texts for {text!r}: {ZH[text]!r} and {zh!r}")


_merge(METRIC_ZH)
_merge(UNITS_ZH)

#: How the metrics of differences.csv are titled in charts (English; Chinese through ZH).
METRIC_TITLES = {
    name: METRIC_LABELS[name][0]
    for name in (
        "cum_net_profit",
        "npv_net_profit",
        "cum_pre_tax_profit",
        "cum_banking_profit",
        "cum_equity_income",
        "cum_group_net_profit",
        "npv_group_net_profit",
        "cum_group_equity_income",
        "cum_group_equity_fv_income",
        "cum_credit_loss",
        "cum_credit_loss_es95",
        "cum_credit_loss_es99",
        "cum_credit_loss_var95",
        "cum_credit_loss_var99",
        "cum_expected_loss",
        "final_npl_ratio",
        "final_raroc",
        "cum_listings",
        "cum_fiscal_cost",
        "cum_young_new_loans",
    )
}


def metric_label(metric: str, lang: str = "en") -> str:
    """The name of ``metric`` (a time-series column, a summary or differences.csv metric),
    e.g. ``final_npl_ratio`` → NPL ratio at the horizon (期末不良贷款率)."""
    try:
        label = METRIC_LABELS[metric][0]
    except KeyError:
        raise KeyError(f"no label for the metric {metric!r} in parksim.viz.i18n") from None
    return tr(label, lang)


def metric_unit(metric: str) -> str:
    """The unit of ``metric`` as the tables hold it (万元, share, firms, ...)."""
    return METRIC_LABELS[metric][1]


def unit_label(unit: str, lang: str = "en", difference: bool = False) -> str:
    """How values of ``unit`` are labelled: "%" for a share, "pp" for its difference."""
    label, _, _, _, changed = UNITS[unit]
    return tr(changed if difference else label, lang)


def format_number(value: float, unit: str, difference: bool = False) -> str:
    """``value`` (in ``unit`` as the tables hold it) as a reader sees it: a share ×100 with
    two decimals, money with thousands separators and no decimals, a typographic minus;
    "–" for a missing value. The unit itself is printed by :func:`unit_label`."""
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return "\u2013"
    _, scale, decimals, diff_decimals, _ = UNITS[unit]
    places = diff_decimals if difference else decimals
    text = f"{value * scale:,.{places}f}"
    if float(text.replace(",", "")) == 0.0:
        text = text.lstrip("-")  # no "-0.00"
    return text.replace("-", MINUS)


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
