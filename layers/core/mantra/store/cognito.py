"""Cognito as the identity provider in the cloud: SignUp / ConfirmSignUp / ForgotPassword through boto3.

Cognito holds the password and e-mails (and checks) the codes; the users table still holds the account (its
tenant and plan), keyed by Cognito's ``sub``. Cognito's errors become our typed errors, never its text
verbatim where it could say whether an account exists.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from mantra.auth.accounts import Credentials
from mantra.auth.codes import CodeSent
from mantra.errors import Conflict, Invalid, LimitExceeded, MantraError, RateLimited
from mantra.store import aws

_ERRORS: dict[str, MantraError] = {
    "UsernameExistsException": Conflict("email: an account with this e-mail exists"),
    "InvalidPasswordException": Invalid("password: does not meet the password rule"),
    "CodeMismatchException": Invalid("code: not the code we sent"),
    "ExpiredCodeException": Invalid("code: this code has expired; ask for a new one"),
    "TooManyFailedAttemptsException": LimitExceeded("code: too many wrong codes; ask for a new one"),
    "LimitExceededException": RateLimited("too many requests for this account; try again later", 5, 0, 900),
    "TooManyRequestsException": RateLimited("too many requests; try again later", 5, 0, 60),
}


class CognitoIdentity:
    def __init__(self, region: str, client_id: str, user_pool_id: str, client: Any = None) -> None:
        self._client = client or aws.client("cognito-idp", region)
        self._client_id, self._pool = client_id, user_pool_id

    def _call(self, op: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self._client, op)(ClientId=self._client_id, **kwargs)
            return result
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _ERRORS:
                raise _ERRORS[code] from exc
            raise

    def register(self, user_id: str, email: str, name: str, password: str) -> str:
        out = self._call(
            "sign_up",
            Username=email,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "name", "Value": name}],
        )
        return str(out["UserSub"])  # the token's ``sub``: the users table's key

    def send_first(self, user_id: str, email: str) -> CodeSent | None:
        return None  # Cognito e-mailed the code on SignUp

    def confirm(self, user_id: str, email: str, code: str) -> None:
        self._call("confirm_sign_up", Username=email, ConfirmationCode=code.strip())

    def resend(self, user_id: str, email: str) -> CodeSent | None:
        self._call("resend_confirmation_code", Username=email)
        return None

    def forgot(self, user_id: str, email: str) -> None:
        self._call("forgot_password", Username=email)

    def reset(self, user_id: str, email: str, code: str, new_password: str) -> None:
        self._call(
            "confirm_forgot_password", Username=email, ConfirmationCode=code.strip(), Password=new_password
        )

    def email_changed(self, user_id: str, old: str, new: str) -> None:
        # we proved the new address with our own code: Cognito takes it as verified (an admin call, IAM-granted)
        self._client.admin_update_user_attributes(
            UserPoolId=self._pool,
            Username=old,
            UserAttributes=[{"Name": "email", "Value": new}, {"Name": "email_verified", "Value": "true"}],
        )

    def password_ok(self, found: Credentials, password: str) -> bool:
        try:  # a challenge (MFA) still means the password was right
            self._client.initiate_auth(
                ClientId=self._client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": found.user.email, "PASSWORD": password},
            )
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in (
                "NotAuthorizedException",
                "UserNotFoundException",
            ):
                return False
            raise
