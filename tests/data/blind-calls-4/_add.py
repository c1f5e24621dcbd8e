# temporary helper (deleted at the end): append/replace a label row, counts computed from the file
import json,re,os
def add(rid,domain,st,comp,viol,mod,ev,body,ctype,style):
    L=open(rid+'.txt',encoding='utf-8').read().splitlines()
    ap=sum(len(re.findall(r"\b(maaf|sorry|apologi[sz]e\w*)\b",l.split(': ',1)[1],re.I)) for l in L if l.startswith('agent'))
    S=["contact","needs","presentation","objection","closing"]; C="CNPOL"
    stages={k:(C[i] in st) for i,k in enumerate(S)}
    cp=None if comp is None else {k:(ch in comp) for k,ch in zip(["acknowledge","clarify","resolve","recheck"],"AQRK")}
    row={"id":rid,"lang":rid.split('_')[1],"domain":domain,"stages":stages,"complaint":cp,"violations":viol,"caller_modality":mod,"modality_evidence":ev,"notes":f"[synthetic blind4, {style}; {len(L)} turns; agent apology tokens {ap}] "+body,"call_type":ctype}
    rows=[]
    if os.path.exists('labels.jsonl'):
        rows=[json.loads(x) for x in open('labels.jsonl',encoding='utf-8')]
    rows=[r for r in rows if r['id']!=rid]+[row]
    rows.sort(key=lambda r:(r['id'].split('_')[1]!='id',r['id']))
    with open('labels.jsonl','w',encoding='utf-8') as f:
        for r in rows: f.write(json.dumps(r,ensure_ascii=False)+'\n')
    print(rid,len(L),'turns apol',ap)
