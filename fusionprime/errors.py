"""One hierarchy of domain errors; the API renders each as an RFC 9457 problem with a stable code."""


class DomainError(Exception):
    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str, *, param: str | None = None, code: str | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.param = param
        if code:
            self.code = code
        self.extra = extra


class ValidationError(DomainError):
    status = 400
    code = "validation_error"
    title = "Invalid request"


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class IllegalTransition(Conflict):
    code = "illegal_transition"
    title = "Illegal state transition"


class Unprocessable(DomainError):
    status = 422
    code = "unprocessable"
    title = "Unprocessable request"
