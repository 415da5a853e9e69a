from fusionprime.errors import Unprocessable


class RiskLimitExceeded(Unprocessable):
    code = "risk_limit_exceeded"
    title = "Risk limit exceeded"
