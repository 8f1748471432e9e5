// Tests for bot/wechat_protocol.h: signatures, parsing of the sample pushes
// of shared/spec/wechat.md §2, reply XML of §3, and hostile bodies.
#include "bot/wechat_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace gridbot::bot::wechat {
namespace {

// "OK <DebugString>" or "ERROR <message>", so failures read like a diff.
std::string Parsed(std::string_view xml) {
  Result<InboundMessage> r = ParseMessage(xml);
  if (!r.ok()) return "ERROR " + r.error();
  return "OK " + DebugString(*r);
}

std::string ErrorOf(std::string_view xml) {
  Result<InboundMessage> r = ParseMessage(xml);
  return r.ok() ? "no error" : r.error();
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A minimal valid text message with `content_element` as its last field.
std::string TextWith(std::string_view content_element) {
  return "<xml><ToUserName><![CDATA[gh_1]]></ToUserName>"
         "<FromUserName><![CDATA[oUser]]></FromUserName>"
         "<CreateTime>1700000000</CreateTime>"
         "<MsgType><![CDATA[text]]></MsgType>" +
         std::string(content_element) + "</xml>";
}

// ---------------------------------------------------------------------------
// Signatures (§1.2, §4.8)

TEST(Sha1HexTest, KnownDigests) {
  EXPECT_EQ(Sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Sha1Hex("15147114921714036504AAAAA"), "f464b24fc39322e44b38aa78f5edd27bd1441696");
}

TEST(SignPartsTest, OfficialAaaaaExampleSortsTheParts) {
  EXPECT_EQ(SignParts({"AAAAA", "1714036504", "1514711492"}),
            "f464b24fc39322e44b38aa78f5edd27bd1441696");
  EXPECT_EQ(SignParts({"1514711492", "AAAAA", "1714036504"}),
            "f464b24fc39322e44b38aa78f5edd27bd1441696");
}

TEST(SignPartsTest, WechatCryptoFourPartVector) {
  EXPECT_EQ(SignParts({"RMNlACHlV5ThzfRlVS4D4", "timestamp", "nonce", "encrypt"}),
            "8edac0945683c119ee71c9f6256d76c48aa08a96");
}

TEST(VerifySignatureTest, OfficialGetExample) {
  // ?signature=f464...&echostr=4375120948345356249&timestamp=1714036504
  //  &nonce=1514711492, Token AAAAA.
  EXPECT_TRUE(VerifySignature("AAAAA", "1714036504", "1514711492",
                              "f464b24fc39322e44b38aa78f5edd27bd1441696"));
}

TEST(VerifySignatureTest, OfficialPlaintextPostExample) {
  EXPECT_TRUE(VerifySignature("AAAAA", "1714037059", "486452656",
                              "899cf89e464efb63f54ddac96b0a0a235f53aa78"));
}

TEST(VerifySignatureTest, WechatpyVector) {
  EXPECT_TRUE(
      VerifySignature("test", "1410685589", "test", "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"));
}

TEST(VerifySignatureTest, AcceptsUpperCaseHex) {
  EXPECT_TRUE(VerifySignature("AAAAA", "1714036504", "1514711492",
                              "F464B24FC39322E44B38AA78F5EDD27BD1441696"));
}

TEST(VerifySignatureTest, RejectsMismatches) {
  const std::string good = "f464b24fc39322e44b38aa78f5edd27bd1441696";
  std::string one_off = good;
  one_off[39] = '7';
  EXPECT_FALSE(VerifySignature("AAAAA", "1714036504", "1514711492", one_off));
  EXPECT_FALSE(VerifySignature("AAAAB", "1714036504", "1514711492", good));
  EXPECT_FALSE(VerifySignature("AAAAA", "1714036505", "1514711492", good));
  EXPECT_FALSE(VerifySignature("AAAAA", "1714036504", "1514711492", ""));
  EXPECT_FALSE(VerifySignature("AAAAA", "1714036504", "1514711492", good.substr(0, 39)));
  EXPECT_FALSE(VerifySignature("AAAAA", "1714036504", "1514711492", good + "0"));
  EXPECT_FALSE(VerifySignature("", "", "", Sha1Hex("")));
}

TEST(DigestEqualsTest, ComparesWholeStrings) {
  EXPECT_TRUE(DigestEquals("0a1b", "0a1b"));
  EXPECT_TRUE(DigestEquals("0a1b", "0A1B"));
  EXPECT_FALSE(DigestEquals("0a1b", "0a1c"));
  EXPECT_FALSE(DigestEquals("0a1b", "0a1"));
  EXPECT_FALSE(DigestEquals("", ""));
  // Only A-F fold: 'G' (0x47) must not match 'g' (0x67).
  EXPECT_FALSE(DigestEquals("g", "G"));
}

// ---------------------------------------------------------------------------
// Sample pushes of §2.3 and §2.4

TEST(ParseMessageTest, OfficialTextSample) {
  EXPECT_EQ(Parsed(R"(<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[fromUser]]></FromUserName>
<CreateTime>1348831860</CreateTime>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[this is a test]]></Content>
<MsgId>1234567890123456</MsgId>
</xml>)"),
            "OK {to_user=\"toUser\" from_user=\"fromUser\" "
            "create_time=1348831860 msg_type=\"text\" "
            "content=\"this is a test\" msg_id=\"1234567890123456\"}");
}

TEST(ParseMessageTest, OfficialLocationSample) {
  const std::string xml = R"(<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[fromUser]]></FromUserName>
<CreateTime>1351776360</CreateTime>
<MsgType><![CDATA[location]]></MsgType>
<Location_X>23.134521</Location_X>
<Location_Y>113.358803</Location_Y>
<Scale>20</Scale>
<Label><![CDATA[位置信息]]></Label>
<MsgId>1234567890123456</MsgId>
</xml>)";
  EXPECT_EQ(Parsed(xml),
            "OK {to_user=\"toUser\" from_user=\"fromUser\" "
            "create_time=1351776360 msg_type=\"location\" "
            "msg_id=\"1234567890123456\" label=\"位置信息\" "
            "location=23.134521,113.358803}");
  Result<InboundMessage> m = ParseMessage(xml);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_TRUE(m->has_location);
  EXPECT_DOUBLE_EQ(m->latitude, 23.134521);
  EXPECT_DOUBLE_EQ(m->longitude, 113.358803);
}

TEST(ParseMessageTest, VoiceWithRecognition) {
  EXPECT_EQ(Parsed(R"(<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[fromUser]]></FromUserName>
<CreateTime>1357290913</CreateTime>
<MsgType><![CDATA[voice]]></MsgType>
<MediaId><![CDATA[media_id]]></MediaId>
<Format><![CDATA[Format]]></Format>
<Recognition><![CDATA[腾讯微信团队]]></Recognition>
<MsgId>1234567890123456</MsgId>
</xml>)"),
            "OK {to_user=\"toUser\" from_user=\"fromUser\" "
            "create_time=1357290913 msg_type=\"voice\" "
            "msg_id=\"1234567890123456\" media_id=\"media_id\" "
            "recognition=\"腾讯微信团队\"}");
}

TEST(ParseMessageTest, VoiceWithMsgIdFirstAndEmptyRecognition) {
  // Field order is not fixed (§2.2) and Recognition may be empty (§2.3).
  EXPECT_EQ(Parsed("<xml>\n  <MsgId>6054768590064713728</MsgId>\n"
                   "  <Recognition><![CDATA[]]></Recognition>\n"
                   "  <MsgType><![CDATA[voice]]></MsgType>\n"
                   "  <FromUserName><![CDATA[fromUser]]></FromUserName>\n"
                   "  <MediaId><![CDATA[m1]]></MediaId>\n</xml>"),
            "OK {from_user=\"fromUser\" msg_type=\"voice\" "
            "msg_id=\"6054768590064713728\" media_id=\"m1\"}");
}

TEST(ParseMessageTest, ImageSample) {
  EXPECT_EQ(
      Parsed(
          R"(<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName>
<CreateTime>1348831860</CreateTime><MsgType><![CDATA[image]]></MsgType>
<PicUrl><![CDATA[this is a url]]></PicUrl><MediaId><![CDATA[media_id]]></MediaId>
<MsgId>1234567890123456</MsgId></xml>)"),
      "OK {to_user=\"toUser\" from_user=\"fromUser\" create_time=1348831860 "
      "msg_type=\"image\" msg_id=\"1234567890123456\" media_id=\"media_id\"}");
}

TEST(ParseMessageTest, LinkSample) {
  EXPECT_EQ(
      Parsed(
          R"(<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName>
<CreateTime>1351776360</CreateTime><MsgType><![CDATA[link]]></MsgType>
<Title><![CDATA[公众平台官网链接]]></Title><Description><![CDATA[公众平台官网链接]]></Description>
<Url><![CDATA[url]]></Url><MsgId>1234567890123456</MsgId></xml>)"),
      "OK {to_user=\"toUser\" from_user=\"fromUser\" create_time=1351776360 "
      "msg_type=\"link\" msg_id=\"1234567890123456\"}");
}

TEST(ParseMessageTest, OfficialClickEventSample) {
  EXPECT_EQ(Parsed(R"(<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[FromUser]]></FromUserName>
<CreateTime>123456789</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[CLICK]]></Event>
<EventKey><![CDATA[EVENTKEY]]></EventKey>
</xml>)"),
            "OK {to_user=\"toUser\" from_user=\"FromUser\" "
            "create_time=123456789 msg_type=\"event\" event=\"click\" "
            "event_key=\"EVENTKEY\"}");
}

TEST(ParseMessageTest, SubscribeEvents) {
  EXPECT_EQ(
      Parsed(
          R"(<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]></FromUserName>
<CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>)"),
      "OK {to_user=\"toUser\" from_user=\"FromUser\" create_time=123456789 "
      "msg_type=\"event\" event=\"subscribe\"}");
  // Via a parameterised QR code: the qrscene_ prefix is kept.
  EXPECT_EQ(
      Parsed(
          R"(<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]></FromUserName>
<CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>
<EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>)"),
      "OK {to_user=\"toUser\" from_user=\"FromUser\" create_time=123456789 "
      "msg_type=\"event\" event=\"subscribe\" event_key=\"qrscene_123123\"}");
  EXPECT_EQ(
      Parsed(
          R"(<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]></FromUserName>
<CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event></xml>)"),
      "OK {to_user=\"toUser\" from_user=\"FromUser\" create_time=123456789 "
      "msg_type=\"event\" event=\"unsubscribe\"}");
}

TEST(ParseMessageTest, ScanEvent) {
  EXPECT_EQ(
      Parsed(
          R"(<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]></FromUserName>
<CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[SCAN]]></Event>
<EventKey><![CDATA[SCENE_VALUE]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>)"),
      "OK {to_user=\"toUser\" from_user=\"FromUser\" create_time=123456789 "
      "msg_type=\"event\" event=\"scan\" event_key=\"SCENE_VALUE\"}");
}

TEST(ParseMessageTest, LocationEvent) {
  const std::string xml =
      R"(<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName>
<CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[LOCATION]]></Event>
<Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision></xml>)";
  EXPECT_EQ(Parsed(xml),
            "OK {to_user=\"toUser\" from_user=\"fromUser\" "
            "create_time=123456789 msg_type=\"event\" event=\"location\" "
            "location=23.137466,113.352425}");
  Result<InboundMessage> m = ParseMessage(xml);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_DOUBLE_EQ(m->latitude, 23.137466);
  EXPECT_DOUBLE_EQ(m->longitude, 113.352425);
}

TEST(ParseMessageTest, ViewEvent) {
  EXPECT_EQ(
      Parsed(
          R"(<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]></FromUserName>
<CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[VIEW]]></Event>
<EventKey><![CDATA[www.qq.com]]></EventKey><MenuId>MENUID</MenuId></xml>)"),
      "OK {to_user=\"toUser\" from_user=\"FromUser\" create_time=123456789 "
      "msg_type=\"event\" event=\"view\" event_key=\"www.qq.com\"}");
}

TEST(ParseMessageTest, TemplateSendJobFinishKeepsMsgIdEmpty) {
  // The job report spells it MsgID; it is not the message's MsgId.
  EXPECT_EQ(
      Parsed(
          R"(<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[oia2TjuEGTNoeX76QEjQNrcURxG8]]></FromUserName>
<CreateTime>1395658920</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>
<MsgID>200163836</MsgID><Status><![CDATA[success]]></Status></xml>)"),
      "OK {to_user=\"gh_7f083739789a\" "
      "from_user=\"oia2TjuEGTNoeX76QEjQNrcURxG8\" create_time=1395658920 "
      "msg_type=\"event\" event=\"templatesendjobfinish\"}");
}

TEST(ParseMessageTest, CompatibleModeBodyHasFieldsAndEncrypt) {
  // §4.1, with vector C's full Encrypt value.
  EXPECT_EQ(Parsed("<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
                   "<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]>"
                   "</FromUserName><CreateTime>1409735668</CreateTime>"
                   "<MsgType><![CDATA[text]]></MsgType>"
                   "<Content><![CDATA[abcdteT]]></Content>"
                   "<MsgId>6054768590064713728</MsgId>"
                   "<Encrypt><![CDATA[hyzAe4Oz...2PE=]]></Encrypt></xml>"),
            "OK {to_user=\"gh_10f6c3c3ac5a\" "
            "from_user=\"oyORnuP8q7ou2gfYjqLzSIWZf0rs\" create_time=1409735668 "
            "msg_type=\"text\" content=\"abcdteT\" msg_id=\"6054768590064713728\" "
            "encrypt=\"hyzAe4Oz...2PE=\"}");
}

TEST(ParseMessageTest, SecureModeEnvelopeNeedsOnlyEncrypt) {
  EXPECT_EQ(Parsed("<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>"
                   "<Encrypt><![CDATA[D7yzvUNAL930rd28wf21s4hvXhz0]]>"
                   "</Encrypt></xml>"),
            "OK {to_user=\"gh_97417a04a28d\" "
            "encrypt=\"D7yzvUNAL930rd28wf21s4hvXhz0\"}");
  EXPECT_EQ(Parsed("<xml><Encrypt>abc=</Encrypt></xml>"), "OK {encrypt=\"abc=\"}");
}

// ---------------------------------------------------------------------------
// Text extraction details

TEST(ParseMessageTest, TrimsAndLowerCasesMatchFields) {
  EXPECT_EQ(Parsed("<xml><FromUserName>\n  oUser \t</FromUserName>"
                   "<MsgType> TEXT </MsgType>"
                   "<Content><![CDATA[  两端的空白去掉  ]]></Content></xml>"),
            "OK {from_user=\"oUser\" msg_type=\"text\" "
            "content=\"两端的空白去掉\"}");
}

TEST(ParseMessageTest, KeepsInnerNewlines) {
  EXPECT_EQ(Parsed(TextWith("<Content><![CDATA[第一行\r\n第二行]]></Content>")),
            "OK {to_user=\"gh_1\" from_user=\"oUser\" create_time=1700000000 "
            "msg_type=\"text\" content=\"第一行\\n第二行\"}");
}

TEST(ParseMessageTest, DecodesPredefinedEntitiesAndCharacterReferences) {
  Result<InboundMessage> m =
      ParseMessage(TextWith("<Content>a &amp; b &lt;c&gt; &quot;&apos; &#20320;&#x597D;"
                            "</Content>"));
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->content, "a & b <c> \"' 你好");
}

TEST(ParseMessageTest, ConcatenatesTextAndCdataPieces) {
  Result<InboundMessage> m =
      ParseMessage(TextWith("<Content>a<![CDATA[b]]]]><![CDATA[>c]]><!-- note -->d</Content>"));
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->content, "ab]]>cd");
}

TEST(ParseMessageTest, IgnoresUnknownElementsAttributesAndDeclaration) {
  EXPECT_EQ(Parsed("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<xml><FromUserName a=\"1\">u</FromUserName>"
                   "<Unknown><Nested>x</Nested></Unknown>"
                   "<MsgType>text</MsgType><MsgDataId>1</MsgDataId></xml>\n"),
            "OK {from_user=\"u\" msg_type=\"text\"}");
}

TEST(ParseMessageTest, KeepsLargestMsgIdExactly) {
  Result<InboundMessage> m = ParseMessage(TextWith("<MsgId>18446744073709551615</MsgId>"));
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->msg_id, "18446744073709551615");
}

TEST(ParseMessageTest, NegativeAndMillisecondCreateTime) {
  Result<InboundMessage> m = ParseMessage(
      "<xml><FromUserName>u</FromUserName><MsgType>text</MsgType>"
      "<CreateTime>1714037059123</CreateTime></xml>");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->create_time, 1714037059123);
}

// ---------------------------------------------------------------------------
// Missing and malformed fields

TEST(ParseMessageTest, RequiresFromUserNameAndMsgType) {
  EXPECT_EQ(ErrorOf("<xml><MsgType>text</MsgType></xml>"), "missing <FromUserName>");
  EXPECT_EQ(ErrorOf("<xml><FromUserName>u</FromUserName></xml>"), "missing <MsgType>");
  EXPECT_EQ(ErrorOf("<xml><FromUserName><![CDATA[]]></FromUserName>"
                    "<MsgType>text</MsgType></xml>"),
            "missing <FromUserName>");
  EXPECT_EQ(ErrorOf("<xml><FromUserName>u</FromUserName>"
                    "<MsgType>  </MsgType></xml>"),
            "missing <MsgType>");
  EXPECT_EQ(ErrorOf("<xml></xml>"), "missing <FromUserName>");
  // An envelope whose Encrypt is empty is not an envelope.
  EXPECT_EQ(ErrorOf("<xml><ToUserName>gh</ToUserName><Encrypt></Encrypt>"
                    "</xml>"),
            "missing <FromUserName>");
}

TEST(ParseMessageTest, RejectsDuplicateFields) {
  EXPECT_EQ(ErrorOf("<xml><FromUserName>a</FromUserName>"
                    "<FromUserName>b</FromUserName><MsgType>text</MsgType>"
                    "</xml>"),
            "duplicate <FromUserName>");
}

TEST(ParseMessageTest, RejectsElementsInsideFields) {
  EXPECT_EQ(ErrorOf(TextWith("<Content><b>bold</b></Content>")),
            "<Content> must not contain elements");
}

TEST(ParseMessageTest, RejectsBadCreateTime) {
  for (const char* bad : {"abc", "12.5", "99999999999999999999", "1e9", "+5", "0x10"}) {
    EXPECT_EQ(ErrorOf("<xml><FromUserName>u</FromUserName>"
                      "<MsgType>text</MsgType><CreateTime>" +
                      std::string(bad) + "</CreateTime></xml>"),
              "<CreateTime> is not a 64-bit integer")
        << bad;
  }
}

TEST(ParseMessageTest, RejectsBadCoordinates) {
  auto location = [](std::string_view x, std::string_view y) {
    std::string xml = "<xml><FromUserName>u</FromUserName><MsgType>location</MsgType>";
    if (!x.empty()) xml += "<Location_X>" + std::string(x) + "</Location_X>";
    if (!y.empty()) xml += "<Location_Y>" + std::string(y) + "</Location_Y>";
    return ErrorOf(xml + "</xml>");
  };
  EXPECT_EQ(location("abc", "113.3"), "<Location_X> is not a number between -90 and 90");
  EXPECT_EQ(location("91", "113.3"), "<Location_X> is not a number between -90 and 90");
  EXPECT_EQ(location("nan", "113.3"), "<Location_X> is not a number between -90 and 90");
  EXPECT_EQ(location("23.1", "inf"), "<Location_Y> is not a number between -180 and 180");
  EXPECT_EQ(location("23.1", "1e2"), "<Location_Y> is not a number between -180 and 180");
  EXPECT_EQ(location("23.1", ""), "<Location_X> and <Location_Y> must come together");
  EXPECT_EQ(location("-23.1", "-113.3"), "no error");
  EXPECT_EQ(Parsed("<xml><FromUserName>u</FromUserName>"
                   "<MsgType>location</MsgType></xml>"),
            "OK {from_user=\"u\" msg_type=\"location\"}");
  EXPECT_EQ(ErrorOf("<xml><FromUserName>u</FromUserName>"
                    "<MsgType>event</MsgType><Event>LOCATION</Event>"
                    "<Latitude>23.1</Latitude></xml>"),
            "<Latitude> and <Longitude> must come together");
}

TEST(ParseMessageTest, CoordinatesOfOtherTypesAreIgnored) {
  EXPECT_EQ(Parsed(TextWith("<Location_X>x</Location_X>"
                            "<Latitude>y</Latitude>")),
            "OK {to_user=\"gh_1\" from_user=\"oUser\" create_time=1700000000 "
            "msg_type=\"text\"}");
}

// ---------------------------------------------------------------------------
// Hostile bodies

TEST(ParseMessageHostileTest, EmptyBody) {
  EXPECT_EQ(ErrorOf(""), "body is empty");
  EXPECT_EQ(ErrorOf(" \r\n\t"), "body is empty");
}

TEST(ParseMessageHostileTest, MalformedXml) {
  for (const char* bad : {"<xml><FromUserName>a</xml>", "<xml", "<xml></XML>",
                          "<xml><Content><![CDATA[abc</Content></xml>",
                          "<xml><FromUserName>a</FromUserName>", "<xml a='1></xml>"}) {
    EXPECT_TRUE(StartsWith(ErrorOf(bad), "malformed XML at byte "))
        << bad << " -> " << ErrorOf(bad);
  }
}

TEST(ParseMessageHostileTest, NotXmlAtAll) {
  EXPECT_EQ(ErrorOf("hello"), "text outside the root element");
  EXPECT_EQ(ErrorOf("{\"FromUserName\":\"u\",\"MsgType\":\"text\"}"),
            "text outside the root element");
}

TEST(ParseMessageHostileTest, RootMustBeXml) {
  EXPECT_EQ(ErrorOf("<root><FromUserName>u</FromUserName>"
                    "<MsgType>text</MsgType></root>"),
            "root element must be <xml>");
  EXPECT_EQ(ErrorOf("<XML><FromUserName>u</FromUserName>"
                    "<MsgType>text</MsgType></XML>"),
            "root element must be <xml>");
  EXPECT_EQ(ErrorOf("<!-- only a comment -->"), "no root element");
}

TEST(ParseMessageHostileTest, ContentOutsideTheRoot) {
  EXPECT_EQ(ErrorOf(TextWith("") + "<xml><FromUserName>x</FromUserName>"
                                   "<MsgType>text</MsgType></xml>"),
            "more than one root element");
  EXPECT_EQ(ErrorOf(TextWith("") + "garbage"), "text outside the root element");
  EXPECT_EQ(ErrorOf("garbage" + TextWith("")), "text outside the root element");
  EXPECT_EQ(ErrorOf(TextWith("") + "<![CDATA[x]]>"), "text outside the root element");
}

TEST(ParseMessageHostileTest, BillionLaughs) {
  const std::string xml = R"(<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<xml><FromUserName>u</FromUserName><MsgType>text</MsgType>
<Content>&lol9;</Content></xml>)";
  EXPECT_EQ(ErrorOf(xml), "document type declarations are not allowed");
}

TEST(ParseMessageHostileTest, ExternalEntity) {
  const std::string xml = R"(<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<xml><FromUserName>u</FromUserName><MsgType>text</MsgType>
<Content>&xxe;</Content></xml>)";
  EXPECT_EQ(ErrorOf(xml), "document type declarations are not allowed");
}

TEST(ParseMessageHostileTest, DoctypeAndEntityAnyCaseAnywhere) {
  EXPECT_EQ(ErrorOf("<!doctype xml SYSTEM \"http://evil/x.dtd\">" + TextWith("")),
            "document type declarations are not allowed");
  EXPECT_EQ(ErrorOf("<xml><!EnTiTy x \"y\"></xml>"), "entity declarations are not allowed");
  // The check runs before parsing, so it also fires inside CDATA: a user
  // typing "<!DOCTYPE" is refused (deliberate; see the header).
  EXPECT_EQ(ErrorOf(TextWith("<Content><![CDATA[<!DOCTYPE html>]]></Content>")),
            "document type declarations are not allowed");
}

TEST(ParseMessageHostileTest, UndefinedEntityReference) {
  EXPECT_EQ(ErrorOf(TextWith("<Content>&xxe;</Content>")),
            "undefined entity reference in <Content>");
  EXPECT_EQ(ErrorOf(TextWith("<Content>a & b</Content>")), "unterminated or bare '&' in <Content>");
  EXPECT_EQ(ErrorOf(TextWith("<Content>a]]>b</Content>")),
            "\"]]>\" outside a CDATA section in <Content>");
}

TEST(ParseMessageHostileTest, ForbiddenCharacterReferences) {
  for (const char* ref : {"&#0;", "&#x0;", "&#1;", "&#xD800;", "&#xFFFE;", "&#x110000;"}) {
    EXPECT_EQ(ErrorOf(TextWith("<Content>a" + std::string(ref) + "b</Content>")),
              "character reference to a character XML forbids in <Content>")
        << ref;
  }
  for (const char* ref : {"&#;", "&#x;", "&#12a;", "&#-1;", "&#4294967296;"}) {
    EXPECT_EQ(ErrorOf(TextWith("<Content>" + std::string(ref) + "</Content>")),
              "malformed character reference in <Content>")
        << ref;
  }
}

TEST(ParseMessageHostileTest, NulByte) {
  EXPECT_EQ(ErrorOf(TextWith(std::string("<Content>a\0b</Content>", 22))),
            "body contains a NUL byte");
}

TEST(ParseMessageHostileTest, InvalidUtf8InFields) {
  for (const char* bad : {"\xFF", "\xC0\xAF", "\xED\xA0\x80", "\xE4\xBD", "\xF8\x88\x80\x80\x80",
                          "\x80", "\xF4\x90\x80\x80"}) {
    EXPECT_EQ(ErrorOf(TextWith("<Content><![CDATA[a" + std::string(bad) + "b]]></Content>")),
              "invalid UTF-8 in <Content>")
        << ::testing::PrintToString(std::string(bad));
  }
  EXPECT_EQ(ErrorOf("<xml><FromUserName>\xFF</FromUserName>"
                    "<MsgType>text</MsgType></xml>"),
            "invalid UTF-8 in <FromUserName>");
}

TEST(ParseMessageHostileTest, TooLargeBody) {
  const std::string huge(kMaxMessageBytes - 200, 'x');
  Result<InboundMessage> ok = ParseMessage(TextWith("<Content>" + huge + "</Content>"));
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok->content.size(), huge.size());

  const std::string body =
      TextWith("<Content>" + std::string(kMaxMessageBytes, 'x') + "</Content>");
  EXPECT_EQ(ErrorOf(body),
            "body is too large (" + std::to_string(body.size()) + " bytes; the limit is 1048576)");
}

TEST(ParseMessageHostileTest, DeepNestingDoesNotCrash) {
  std::string nested;
  for (int i = 0; i < 100000; ++i) nested += "<a>";
  for (int i = 0; i < 100000; ++i) nested += "</a>";
  EXPECT_EQ(Parsed(TextWith("<Unknown>" + nested + "</Unknown>")),
            "OK {to_user=\"gh_1\" from_user=\"oUser\" create_time=1700000000 "
            "msg_type=\"text\"}");
  EXPECT_EQ(ErrorOf(TextWith("<Content>" + nested + "</Content>")),
            "<Content> must not contain elements");
}

TEST(IsValidUtf8Test, Boundaries) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("ascii"));
  EXPECT_TRUE(IsValidUtf8("南宁市电费"));
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));   // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
  EXPECT_TRUE(IsValidUtf8("\xEF\xBF\xBF"));       // U+FFFF
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xF0\x8F\xBF\xBF"));  // overlong U+FFFF
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98"));      // truncated
  EXPECT_FALSE(IsValidUtf8("\xE4\x41\x41"));      // bad continuation
}

// ---------------------------------------------------------------------------
// Dedup

TEST(DedupKeyTest, MessagesUseSenderAndMsgId) {
  Result<InboundMessage> m = ParseMessage(TextWith("<MsgId>6054768590064713728</MsgId>"));
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(DedupKey(*m), "msg:oUser|6054768590064713728");
  // Another sender reusing the MsgId is another message (not the victim's reply).
  m->from_user = "oOther";
  EXPECT_EQ(DedupKey(*m), "msg:oOther|6054768590064713728");
}

TEST(DedupKeyTest, EventsUseSenderTimeEventAndKey) {
  Result<InboundMessage> click = ParseMessage(
      "<xml><FromUserName>FromUser</FromUserName><CreateTime>123456789"
      "</CreateTime><MsgType>event</MsgType><Event>CLICK</Event>"
      "<EventKey>BILL</EventKey></xml>");
  ASSERT_TRUE(click.ok()) << click.error();
  EXPECT_EQ(DedupKey(*click), "evt:FromUser|123456789|click|BILL");

  Result<InboundMessage> sub = ParseMessage(
      "<xml><FromUserName>FromUser</FromUserName><CreateTime>123456789"
      "</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>");
  ASSERT_TRUE(sub.ok()) << sub.error();
  EXPECT_EQ(DedupKey(*sub), "evt:FromUser|123456789|subscribe|");
}

// ---------------------------------------------------------------------------
// Replies (§3)

InboundMessage From(std::string from_user, std::string to_user) {
  InboundMessage in;
  in.from_user = std::move(from_user);
  in.to_user = std::move(to_user);
  in.msg_type = "text";
  return in;
}

TEST(TextReplyTest, MatchesWxJavaSerialisation) {
  // WxMpXmlOutTextMessageTest: reply ToUserName "to", FromUserName "from".
  EXPECT_EQ(TextReply(From("to", "from"), 1122, "content"),
            "<xml><ToUserName><![CDATA[to]]></ToUserName>"
            "<FromUserName><![CDATA[from]]></FromUserName>"
            "<CreateTime>1122</CreateTime>"
            "<MsgType><![CDATA[text]]></MsgType>"
            "<Content><![CDATA[content]]></Content></xml>");
}

std::string WithoutNewlines(std::string s) {
  std::erase(s, '\n');
  return s;
}

TEST(TextReplyTest, MatchesOfficialSample) {
  // §3.1, line breaks removed.
  EXPECT_EQ(TextReply(From("toUser", "fromUser"), 12345678, "你好"), WithoutNewlines(R"(<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[fromUser]]></FromUserName>
<CreateTime>12345678</CreateTime>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[你好]]></Content>
</xml>)"));
}

TEST(TextReplyTest, SwapsAddressesOfTheOfficialSample) {
  Result<InboundMessage> in = ParseMessage(R"(<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[fromUser]]></FromUserName>
<CreateTime>1348831860</CreateTime>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[this is a test]]></Content>
<MsgId>1234567890123456</MsgId>
</xml>)");
  ASSERT_TRUE(in.ok()) << in.error();
  EXPECT_EQ(Parsed(TextReply(*in, 12345678, "你好")),
            "OK {to_user=\"fromUser\" from_user=\"toUser\" "
            "create_time=12345678 msg_type=\"text\" content=\"你好\"}");
}

TEST(TextReplyTest, CdataTerminatorRoundTrips) {
  for (const char* content : {"a]]>b", "]]>", "]]>]]>", "x]", "]]", "]", "a]]]>b", "<![CDATA[x",
                              "&amp; <b>", "第一行\n第二行 ]]> 结束"}) {
    const std::string reply = TextReply(From("oUser", "gh_1"), 1, content);
    Result<InboundMessage> back = ParseMessage(reply);
    ASSERT_TRUE(back.ok()) << content << ": " << back.error() << "\n" << reply;
    EXPECT_EQ(back->content, content) << reply;
  }
  EXPECT_EQ(TextReply(From("u", "g"), 1, "a]]>b"),
            "<xml><ToUserName><![CDATA[u]]></ToUserName>"
            "<FromUserName><![CDATA[g]]></FromUserName>"
            "<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            "<Content><![CDATA[a]]]]><![CDATA[>b]]></Content></xml>");
}

TEST(TextReplyTest, DropsControlCharactersXmlForbids) {
  const std::string reply = TextReply(From("u", "g"), 1, std::string("a\x01\x1f\tb\0c", 7));
  Result<InboundMessage> back = ParseMessage(reply);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->content, "a\tbc");
}

TEST(NewsReplyTest, MatchesOfficialSample) {
  // §3.2, line breaks removed.
  EXPECT_EQ(
      NewsReply(From("toUser", "fromUser"), 12345678, "title1", "description1", "picurl", "url"),
      WithoutNewlines(R"(<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[fromUser]]></FromUserName>
<CreateTime>12345678</CreateTime>
<MsgType><![CDATA[news]]></MsgType>
<ArticleCount>1</ArticleCount>
<Articles>
<item>
<Title><![CDATA[title1]]></Title>
<Description><![CDATA[description1]]></Description>
<PicUrl><![CDATA[picurl]]></PicUrl>
<Url><![CDATA[url]]></Url>
</item>
</Articles>
</xml>)"));
}

TEST(NewsReplyTest, OneArticle) {
  EXPECT_EQ(NewsReply(From("oUser", "gh_1"), 12345678, "电费账单", "2024年7月电费 ]]> 123.45元",
                      "https://p/x.png", "https://h5/bill?m=2024-07&u=1"),
            "<xml><ToUserName><![CDATA[oUser]]></ToUserName>"
            "<FromUserName><![CDATA[gh_1]]></FromUserName>"
            "<CreateTime>12345678</CreateTime>"
            "<MsgType><![CDATA[news]]></MsgType>"
            "<ArticleCount>1</ArticleCount><Articles><item>"
            "<Title><![CDATA[电费账单]]></Title>"
            "<Description><![CDATA[2024年7月电费 ]]]]><![CDATA[> 123.45元]]>"
            "</Description>"
            "<PicUrl><![CDATA[https://p/x.png]]></PicUrl>"
            "<Url><![CDATA[https://h5/bill?m=2024-07&u=1]]></Url>"
            "</item></Articles></xml>");
}

TEST(TransferReplyTest, PlainAndWithAgent) {
  EXPECT_EQ(TransferToCustomerServiceReply(From("touser", "fromuser"), 1399197672),
            "<xml><ToUserName><![CDATA[touser]]></ToUserName>"
            "<FromUserName><![CDATA[fromuser]]></FromUserName>"
            "<CreateTime>1399197672</CreateTime>"
            "<MsgType><![CDATA[transfer_customer_service]]></MsgType></xml>");
  EXPECT_EQ(TransferToCustomerServiceReply(From("touser", "fromuser"), 1399197672, "test1@test"),
            "<xml><ToUserName><![CDATA[touser]]></ToUserName>"
            "<FromUserName><![CDATA[fromuser]]></FromUserName>"
            "<CreateTime>1399197672</CreateTime>"
            "<MsgType><![CDATA[transfer_customer_service]]></MsgType>"
            "<TransInfo><KfAccount><![CDATA[test1@test]]></KfAccount>"
            "</TransInfo></xml>");
  Result<InboundMessage> back =
      ParseMessage(TransferToCustomerServiceReply(From("touser", "fromuser"), 1));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->msg_type, "transfer_customer_service");
}

TEST(CdataEscapeTest, SplitsEveryTerminator) {
  EXPECT_EQ(CdataEscape(""), "");
  EXPECT_EQ(CdataEscape("plain"), "plain");
  EXPECT_EQ(CdataEscape("]]>"), "]]]]><![CDATA[>");
  EXPECT_EQ(CdataEscape("a]]>b]]>"), "a]]]]><![CDATA[>b]]]]><![CDATA[>");
  EXPECT_EQ(CdataEscape("]]]>"), "]]]]]><![CDATA[>");
}

TEST(DebugStringTest, QuotesAndEscapes) {
  InboundMessage in;
  in.content = "say \"hi\"\\\n";
  in.create_time = 5;
  EXPECT_EQ(DebugString(in), "{create_time=5 content=\"say \\\"hi\\\"\\\\\\n\"}");
  EXPECT_EQ(DebugString(InboundMessage{}), "{}");
}

}  // namespace
}  // namespace gridbot::bot::wechat
